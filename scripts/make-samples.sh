#!/usr/bin/env bash
# Regenerates samples/loopback-clients.pcapng: real clients (curl over TLS 1.3
# and 1.2, openssl s_client, Node's https, plain HTTP with cookies) talking
# to a local Node server, captured on loopback with dumpcap. The committed
# file is what `ja4 demo` prints; rerun only to refresh it (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 3650 \
  -subj "/C=US/O=ja4-platform sample/CN=sample.test" 2>/dev/null
node -e '
const fs = require("fs"), https = require("https"), http = require("http");
const handler = (req, res) => { res.setHeader("content-type", "text/plain"); res.end("hello\n"); };
https.createServer({ key: fs.readFileSync(process.argv[1]), cert: fs.readFileSync(process.argv[2]), ALPNProtocols: ["http/1.1"] }, handler).listen(18443, "127.0.0.1");
http.createServer(handler).listen(18080, "127.0.0.1");
' "$work/key.pem" "$work/cert.pem" &
sleep 1
dumpcap -q -i lo -f "tcp port 18443 or tcp port 18080" -w "$work/out.pcapng" >/dev/null 2>&1 &
sleep 2
R=(--resolve sample.test:18443:127.0.0.1 --max-time 5)
curl -sk "${R[@]}" https://sample.test:18443/ -o /dev/null
curl -sk "${R[@]}" --tlsv1.2 --tls-max 1.2 https://sample.test:18443/ -o /dev/null
curl -s --max-time 5 -H 'Accept-Language: en-US,en;q=0.9' -b 'session=abc; theme=dark' http://127.0.0.1:18080/a http://127.0.0.1:18080/b -o /dev/null -o /dev/null
echo -e 'GET / HTTP/1.1\r\nHost: sample.test\r\nConnection: close\r\n\r\n' | timeout 5 openssl s_client -quiet -connect 127.0.0.1:18443 -servername sample.test >/dev/null 2>&1 || true
timeout 5 node -e 'require("https").get({host:"127.0.0.1",port:18443,servername:"sample.test",rejectUnauthorized:false,path:"/"},r=>{r.resume();r.on("end",()=>process.exit(0))})' || true
sleep 2
kill %2 2>/dev/null || true
sleep 1
cp "$work/out.pcapng" samples/loopback-clients.pcapng
echo "wrote samples/loopback-clients.pcapng"
