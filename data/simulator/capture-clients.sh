#!/usr/bin/env bash
# Records the ClientHellos of the HTTP clients installed on this machine on
# loopback, for the simulator's catalog (data/simulator/client-hellos.json is
# extracted from the result by `node dist/simulator/catalog-extract.js`).
# Usage: bash data/simulator/capture-clients.sh OUT.pcapng   (as root: dumpcap on lo)
set -euo pipefail
out=${1:?usage: capture-clients.sh OUT.pcapng}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
port=18444
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=www.example.com \
  -addext subjectAltName=DNS:www.example.com -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
node -e '
const https = require("node:https"); const fs = require("node:fs");
https.createServer({ key: fs.readFileSync(process.argv[1]), cert: fs.readFileSync(process.argv[2]), ALPNProtocols: ["http/1.1"] },
  (req, res) => res.end("ok\n")).listen(Number(process.argv[3]));
' "$tmp/key.pem" "$tmp/cert.pem" "$port" &
sleep 1
dumpcap -q -i lo -f "tcp port $port" -w "$out" &
sleep 2
url=https://www.example.com:$port/
res="--resolve "www.example.com:$port:127.0.0.1
# One client per connection, in this order (catalog-extract names them by order).
curl -sk $res "$url" >/dev/null                                   # 1 curl (OpenSSL 3)

python3 - "$port" <<'PY'                                            # 2 python-requests (urllib3 + OpenSSL)
import sys, requests, urllib3
urllib3.disable_warnings()
s = requests.Session()
s.get(f"https://localhost:{sys.argv[1]}/", verify=False)
PY
sleep 0.3
node -e 'require("node:https").get({host:"127.0.0.1",port:Number(process.argv[1]),servername:"www.example.com",rejectUnauthorized:false},r=>r.resume())' "$port"; sleep 0.3   # 3 node https
node -e 'process.env.NODE_TLS_REJECT_UNAUTHORIZED="0"; fetch(process.argv[1]).then(r=>r.text()).catch(()=>{})' "https://localhost:$port/" 2>/dev/null; sleep 0.3   # 4 node fetch (undici)
echo | openssl s_client -connect 127.0.0.1:$port -servername www.example.com -quiet >/dev/null 2>&1 || true; sleep 0.3   # 5 openssl s_client
if command -v go >/dev/null; then                                    # 6 Go net/http
  cat > "$tmp/main.go" <<'GO'
package main
import ("crypto/tls"; "net/http"; "os"; "io")
func main() {
  tr := http.DefaultTransport.(*http.Transport).Clone()
  tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true, ServerName: "www.example.com"}
  r, err := (&http.Client{Transport: tr}).Get("https://127.0.0.1:" + os.Args[1] + "/")
  if err == nil { io.Copy(io.Discard, r.Body); r.Body.Close() }
}
GO
  (cd "$tmp" && HOME=$tmp GOCACHE=$tmp/cache GOFLAGS=-mod=mod go run main.go "$port") || true; sleep 0.3
fi
if command -v chromium >/dev/null; then                              # 7 headless Chromium
  timeout 20 chromium --headless=new --no-sandbox --disable-gpu --ignore-certificate-errors \
    --host-resolver-rules="MAP www.example.com 127.0.0.1" --user-data-dir="$tmp/chrome" \
    --dump-dom "$url" >/dev/null 2>&1 || true
fi
sleep 1
kill %2 2>/dev/null || true
sleep 1
