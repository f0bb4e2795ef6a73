"""`kcdata portal serve --tls`: HTTPS with a self-signed certificate, used unchanged by clients that
hard-code ``https://`` — sodapy without ``session_adapter`` (REQUESTS_CA_BUNDLE) and soda-js 0.2.3
from npm (NODE_EXTRA_CA_CERTS), including the legacy row paths soda-js's Producer uses."""

from __future__ import annotations

import json
import shutil
import signal
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PORTAL_PASSWORD, PORTAL_USERNAME, REPO, serving_tls, subprocess_env

from kcdata.portal import PortalServer
from kcdata.portal.tls import Certificate, self_signed, sha256_fingerprint

SODA_JS = "soda-js@0.2.3"


@pytest.fixture(scope="module")
def tls_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PortalServer, Certificate]]:
    with serving_tls(tmp_path_factory.mktemp("tls-portal")) as served:
        yield served


def test_certificate_is_kept_and_valid_under_strict_checks(tls_portal: tuple[PortalServer, Certificate]) -> None:
    server, cert = tls_portal
    assert server.url.startswith("https://127.0.0.1:")
    again = self_signed(cert.certfile.parent.parent)
    assert not again.generated and again.certfile == cert.certfile  # made once, reused on restart
    assert (cert.keyfile.stat().st_mode & 0o077) == 0
    context = ssl.create_default_context(cafile=str(cert.certfile))
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    for host in ("127.0.0.1", "localhost"):
        url = server.url.replace("127.0.0.1", host) + "/api/catalog/v1"
        with urllib.request.urlopen(url, context=context, timeout=10) as response:
            assert json.loads(response.read())["resultSetSize"] >= 0
    with pytest.raises(urllib.error.URLError):  # not trusted without the certificate
        urllib.request.urlopen(server.url + "/api/catalog/v1", timeout=10)


def test_plain_http_to_the_tls_port_fails_cleanly(tls_portal: tuple[PortalServer, Certificate]) -> None:
    import requests

    server, _cert = tls_portal
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(server.url.replace("https://", "http://") + "/api/catalog/v1", timeout=10)
    with urllib.request.urlopen(server.url + "/api/catalog/v1", timeout=10,
                                context=ssl.create_default_context(cafile=str(_cert.certfile))) as response:
        assert response.status == 200


def test_sodapy_over_https_with_requests_ca_bundle(tls_portal: tuple[PortalServer, Certificate],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from sodapy import Socrata

    server, cert = tls_portal
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert.certfile))
    with Socrata(server.domain, "token", username=PORTAL_USERNAME, password=PORTAL_PASSWORD, timeout=30) as client:
        view = client.create("Over HTTPS", row_identifier="case_id",
                             columns=[{"fieldName": "case_id", "name": "Case", "dataTypeName": "text"},
                                      {"fieldName": "amount", "name": "Amount", "dataTypeName": "number"}])
        report = client.upsert(view["id"], [{"case_id": "A1", "amount": "9.99999999999999999999"},
                                            {"case_id": "A2", "amount": 12}])
        assert report["Rows Created"] == 2
        client.publish(view["id"])
        client.set_permission(view["id"], "public")
        assert client.get(view["id"], where="amount < 10") == [{"case_id": "A1", "amount": "9.99999999999999999999"}]
        assert list(client.get_all(view["id"])) == [{"case_id": "A1", "amount": "9.99999999999999999999"},
                                                    {"case_id": "A2", "amount": "12"}]
        assert client.get_metadata(view["id"])["id"] == view["id"]
        assert any(r["resource"]["id"] == view["id"] for r in client.datasets())


def test_tls_cli_prints_certificate_path_and_fingerprint(tmp_path: Path) -> None:
    env = subprocess_env(KCDATA_PORTAL_USERNAME=PORTAL_USERNAME, KCDATA_PORTAL_PASSWORD=PORTAL_PASSWORD)
    proc = subprocess.Popen([sys.executable, "-m", "kcdata", "portal", "serve", "--port", "0", "--tls",
                             "--data-dir", str(tmp_path / "d")], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("https://127.0.0.1:")
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
    cert = tmp_path / "d" / "tls" / "cert.pem"
    assert proc.returncode == 0
    assert str(cert) in err.replace("\n", "") and sha256_fingerprint(cert) in err.replace("\n", "")
    openssl = shutil.which("openssl")
    if openssl:
        shown = subprocess.run([openssl, "x509", "-in", str(cert), "-noout", "-fingerprint", "-sha256"],
                               capture_output=True, text=True, check=True).stdout
        assert shown.strip().split("=", 1)[1] == sha256_fingerprint(cert)


def test_own_certificate_needs_both_files(tmp_path: Path, cli: Any) -> None:
    cert = self_signed(tmp_path / "c")
    result = cli(["portal", "serve", "--certfile", str(cert.certfile), "--data-dir", str(tmp_path / "d")],
                 env={"KCDATA_PORTAL_USERNAME": "u", "KCDATA_PORTAL_PASSWORD": "p"})
    assert result.exit_code == 3 and "--certfile and --keyfile go together" in result.stderr


# -- soda-js 0.2.3 from npm ----------------------------------------------------------------------------
SODA_JS_SCRIPT = r"""
const soda = require('soda-js');
const [site, dataset, user, password] = process.argv.slice(2);
const opts = {username: user, password: password, apiToken: 'js-token'};
const producer = new soda.Producer(site, opts);
const consumer = new soda.Consumer(site, {apiToken: 'js-token', username: user, password: password});
const out = {};
function step(name, emitter) {
  return new Promise((resolve, reject) => {
    emitter.on('success', (body) => { out[name] = body; resolve(body); });
    emitter.on('error', (body) => reject(new Error(name + ': ' + JSON.stringify(body))));
  });
}
(async () => {
  await step('upsert', producer.operation().withDataset(dataset).upsert(
    [{id: 'a', n: '1.5', t: 'alpha'}, {id: 'b', n: '2', t: 'beta'}, {id: 'c', n: '10', t: 'gamma'}]));
  await step('query', consumer.query().withDataset(dataset).select('id', 'n').where(soda.expr.gt('n', 1.5))
    .order('n desc').limit(10).getRows());
  await step('soql', consumer.query().withDataset(dataset)
    .soql("SELECT id, n * 2 AS twice WHERE t != 'beta' ORDER BY id").getRows());
  await step('update', producer.operation().withDataset(dataset).update('a', {t: 'ALPHA'}));
  await step('replace', producer.operation().withDataset(dataset).replace('b', {n: '3'}));
  await step('delete', producer.operation().withDataset(dataset).delete('c'));
  await step('after', consumer.query().withDataset(dataset).order('id').getRows());
  await step('truncate', producer.operation().withDataset(dataset).truncate());
  await step('empty', consumer.query().withDataset(dataset).getRows());
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { process.stderr.write(String(e.stack || e)); process.exit(1); });
"""


@pytest.fixture(scope="session")
def soda_js(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with soda-js 0.2.3 installed from npm (cached between runs in pytest's cache dir)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run soda-js (not installed on this machine)")
    cache = getattr(request.config, "cache", None)  # None with -p no:cacheprovider
    folder = Path(cache.mkdir("soda-js-0.2.3")) if cache is not None else tmp_path_factory.mktemp("soda-js")
    if not (folder / "node_modules" / "soda-js" / "package.json").exists():
        (folder / "package.json").write_text('{"name": "kcdata-soda-js-check", "private": true}\n')
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-save", SODA_JS], cwd=folder,
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, f"npm install {SODA_JS} failed: {done.stderr[-2000:]}"
    version = json.loads((folder / "node_modules" / "soda-js" / "package.json").read_text())["version"]
    assert version == "0.2.3"
    (folder / "check.js").write_text(SODA_JS_SCRIPT)
    return folder


def test_soda_js_consumer_and_producer_over_https(tls_portal: tuple[PortalServer, Certificate],
                                                  soda_js: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sodapy import Socrata

    server, cert = tls_portal
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert.certfile))
    with Socrata(server.domain, "token", username=PORTAL_USERNAME, password=PORTAL_PASSWORD, timeout=30) as client:
        view = client.create("soda-js", row_identifier="id",
                             columns=[{"fieldName": "id", "name": "Id", "dataTypeName": "text"},
                                      {"fieldName": "n", "name": "N", "dataTypeName": "number"},
                                      {"fieldName": "t", "name": "T", "dataTypeName": "text"}])
    env = {**subprocess_env(), "NODE_EXTRA_CA_CERTS": str(cert.certfile)}
    done = subprocess.run(["node", "check.js", server.domain, view["id"], PORTAL_USERNAME, PORTAL_PASSWORD],
                          cwd=soda_js, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    assert out["upsert"]["Rows Created"] == 3
    assert out["query"] == [{"id": "c", "n": "10"}, {"id": "b", "n": "2"}]
    assert out["soql"] == [{"id": "a", "twice": "3"}, {"id": "c", "twice": "20"}]
    assert out["update"] == {"id": "a", "n": "1.5", "t": "ALPHA"}
    assert out["replace"] == {"id": "b", "n": "3"}  # PUT replaces the row: t is gone
    assert out["after"] == [{"id": "a", "n": "1.5", "t": "ALPHA"}, {"id": "b", "n": "3"}]
    assert out["truncate"]["Rows Deleted"] == 2 and out["empty"] == []
