// The sql/ templates: statement splitting, the @only directives, the
// placeholders; and the cluster form of every migration, which ClickHouse
// must parse (formatQuery, through the embedded engine, executing nothing).
import t from 'tap';
import { DEFAULT_RETENTION, loadMigrationFiles, renderMigration, renderTemplate, splitStatements, type RenderContext } from '../src/storage/index.js';
import { openTestStorage } from './helpers/storage-fixture.js';

const CLUSTER: RenderContext = { cluster: 'ja4_cluster', server: true, retention: { ...DEFAULT_RETENTION, http_logs: 14 }, userPasswords: { dashboard: 'd-secret', writer: 'w-secret' } };
const SERVER: RenderContext = { server: true, retention: DEFAULT_RETENTION, userPasswords: { dashboard: 'd', writer: 'w' } };
const EMBEDDED: RenderContext = { server: false, retention: DEFAULT_RETENTION };

t.test('splitting respects quotes and comments', async (t) => {
  const sql = "-- a; comment\nSELECT ';' AS a, \"x;y\" FROM t; /* b; */ SELECT `c;d`;\n-- @only cluster\nSELECT 3;\n\n-- only a comment;\n";
  const s = splitStatements(sql);
  t.same(s.map((x) => x.only), [undefined, undefined, 'cluster']);
  t.same(s.map((x) => x.line), [1, 2, 3]);
  t.match(s[0]!.text, /SELECT ';' AS a, "x;y" FROM t$/);
  t.throws(() => splitStatements('-- @only everywhere\nSELECT 1', 'f.sql'), { code: 'ERR_MIGRATION_FILE', message: /f\.sql:1: unknown "-- @only everywhere"/ });
});

t.test('placeholders', async (t) => {
  const tpl = "CREATE TABLE a.b {{ON_CLUSTER}} (x UInt8) ENGINE = {{ENGINE ReplacingMergeTree(x)}} ORDER BY x TTL d + INTERVAL {{TTL_DAYS http_logs}} DAY; -- {{not rendered in comments}}\n" +
    "CREATE VIEW a.v AS SELECT * FROM {{READ a.b}};\n-- @only cluster\nCREATE TABLE a.b_dist AS a.b ENGINE = Distributed({{CLUSTER}}, a, b);";
  t.same(renderTemplate(tpl, EMBEDDED).map((s) => s.sql), [
    'CREATE TABLE a.b (x UInt8) ENGINE = ReplacingMergeTree(x) ORDER BY x TTL d + INTERVAL 30 DAY',
    'CREATE VIEW a.v AS SELECT * FROM a.b',
  ]);
  t.same(renderTemplate(tpl, CLUSTER).map((s) => s.sql), [
    "CREATE TABLE a.b ON CLUSTER `ja4_cluster` (x UInt8) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', x) ORDER BY x TTL d + INTERVAL 14 DAY",
    'CREATE VIEW a.v AS SELECT * FROM a.b_dist',
    "CREATE TABLE a.b_dist AS a.b ENGINE = Distributed('ja4_cluster', a, b)",
  ]);
  t.throws(() => renderTemplate('SELECT {{NOPE}}', EMBEDDED, 'x.sql'), { code: 'ERR_MIGRATION_FILE', message: /x\.sql:1: unknown placeholder \{\{NOPE\}\}/ });
  t.throws(() => renderTemplate('-- @only server\nCREATE USER u IDENTIFIED WITH sha256_hash BY {{PASSWORD_SHA256 writer}}', { ...SERVER, userPasswords: {} }), {
    code: 'ERR_STORAGE_OPTION',
    message: /userPasswords\.writer \(JA4_DB_WRITER_PASSWORD\) is required/,
  });
  t.match(renderTemplate('-- @only server\nCREATE USER u IDENTIFIED WITH sha256_hash BY {{PASSWORD_SHA256 writer}}', SERVER)[0]!.sql, /BY '50e721e49c013f00c62cf59f2163542a9d8df02464efeb615d31051b0fddc326'$/, 'sha256 of "w"');
});

t.test('every statement of the cluster and server forms parses in ClickHouse', async (t) => {
  const storage = await openTestStorage(t, { migrate: false });
  const files = loadMigrationFiles();
  for (const [label, ctx] of [['cluster', CLUSTER], ['server', SERVER]] as const) {
    const rendered = files.flatMap((f) => renderMigration(f, ctx).map((sql, i) => ({ where: `${f.name} #${i + 1}`, sql })));
    const failures: string[] = [];
    for (const r of rendered) {
      try {
        // the statement is a parameter: parsed and formatted, never executed
        await storage.query('SELECT formatQuery({q:String}) AS f', { q: r.sql });
      } catch (err) {
        failures.push(`${r.where}: ${(err as Error).message.slice(0, 300)}`);
      }
    }
    t.same(failures, [], `${label}: ${rendered.length} statements parse`);
    if (label === 'cluster') {
      const ddl = rendered.map((r) => r.sql);
      t.ok(ddl.filter((s) => /^(CREATE|GRANT)/.test(s)).every((s) => s.includes('ON CLUSTER `ja4_cluster`')), 'every CREATE and GRANT runs ON CLUSTER');
      t.notOk(ddl.some((s) => /ENGINE = (MergeTree|AggregatingMergeTree|ReplacingMergeTree)\b/.test(s)), 'no unreplicated MergeTree left');
      t.ok(ddl.some((s) => s.includes("ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')")), 'replicated aggregates per shard');
      t.ok(ddl.some((s) => s.includes("ReplicatedMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}')")), 'reference tables replicated everywhere');
      const dist = ddl.filter((s) => s.includes('ENGINE = Distributed('));
      t.equal(dist.length, 16, 'sixteen Distributed tables');
      t.ok(ddl.some((s) => s.includes('FROM ja4_processing.agg_host_ip_ja4_1h_dist')), 'the feature view reads the Distributed aggregate');
      t.ok(ddl.some((s) => s.startsWith('CREATE USER IF NOT EXISTS ja4_dashboard')), 'users in server mode');
      t.ok(ddl.some((s) => /TTL toDateTime\(ts\) \+ INTERVAL 14 DAY/.test(s)), 'retention rendered');
    }
  }
  const embedded = files.flatMap((f) => renderMigration(f, EMBEDDED));
  t.notOk(embedded.some((s) => /CREATE (USER|ROLE)|GRANT|Distributed/.test(s)), 'the embedded form has no users, grants or Distributed tables');
});
