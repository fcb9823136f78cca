#!/usr/bin/env node
// Builds the dashboard's browser bundle: web/src/main.ts (Lit components,
// chart.js, the theme CSS it imports) -> web/dist/ with content-hashed file
// names, and web/dist/index.html referencing them. The server serves hashed
// assets as immutable and index.html as no-cache, so a deploy never mixes
// old and new files in a browser.
//
//   node scripts/build-web.mjs [--out DIR] [--dev]
//
// --dev keeps the bundle unminified with inline source maps. Used by
// `make build-web` and by the browser tests before they start.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const webDir = join(root, 'web');

/**
 * @param {{ outDir?: string, dev?: boolean }} [opts]
 * @returns {Promise<{ outDir: string, files: string[], ms: number }>}
 */
export async function buildWeb(opts = {}) {
  const started = performance.now();
  const outDir = resolve(opts.outDir ?? join(webDir, 'dist'));
  const dev = opts.dev === true;
  // Old hashed files would pile up otherwise; the folder is ours alone.
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { app: join(webDir, 'src', 'main.ts') },
    outdir: join(outDir, 'assets'),
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    target: ['chrome110', 'firefox115', 'safari16'],
    platform: 'browser',
    tsconfig: join(webDir, 'tsconfig.json'),
    minify: !dev,
    sourcemap: dev ? 'inline' : 'linked',
    metafile: true,
    legalComments: 'linked',
    // chart.js is imported piece by piece (web/src/charts/chart-setup.ts):
    // only the registered controllers and elements end up in the bundle.
    treeShaking: true,
    define: { 'process.env.NODE_ENV': dev ? '"development"' : '"production"' },
    logLevel: 'silent',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => resolve(root, p));
  const js = outputs.find((p) => p.endsWith('.js') && basename(p).startsWith('app-'));
  const css = outputs.find((p) => p.endsWith('.css') && basename(p).startsWith('app-'));
  if (js === undefined) throw new Error('build-web: esbuild produced no app-*.js');
  const href = (p) => `/${relative(outDir, p).split('\\').join('/')}`;
  const template = readFileSync(join(webDir, 'src', 'index.html'), 'utf8');
  const html = template
    .replace('<!--styles-->', css === undefined ? '' : `<link rel="stylesheet" href="${href(css)}">`)
    .replace('<!--script-->', `<script type="module" src="${href(js)}"></script>`);
  writeFileSync(join(outDir, 'index.html'), html);
  return { outDir, files: [...outputs.map((p) => relative(outDir, p)), 'index.html'], ms: Math.round(performance.now() - started) };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opts = { dev: false, outDir: undefined };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--dev') opts.dev = true;
    else if (a === '--out') {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) {
        console.error('build-web: --out needs a directory');
        process.exit(2);
      }
      opts.outDir = v;
    } else {
      console.error(`build-web: unknown option "${a}" (known: --out DIR, --dev)`);
      process.exit(2);
    }
  }
  try {
    const { outDir, files, ms } = await buildWeb(opts);
    console.log(`web bundle: ${files.length} files in ${relative(process.cwd(), outDir) || '.'} (${ms} ms)`);
  } catch (err) {
    const errors = /** @type {{ errors?: { text: string, location?: { file: string, line: number } }[] }} */ (err).errors;
    if (errors) for (const e of errors) console.error(`${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`);
    else console.error(err);
    process.exit(1);
  }
}
