"""The REST API over HTTPS with the node's own certificate; plain HTTP only on loopback and only
when asked; the docs page from local assets."""

import re
import ssl

import httpx
import pytest
from fastapi.testclient import TestClient

from yinji.cli.main import main as cli
from yinji.node.api import create_app
from yinji.node.config import ConfigError, NodeConfig
from yinji.node.https import ServerTls, check_url, client_verify
from yinji.node.identity import init_node
from yinji.testing.servers import serve


def test_https_is_the_default_and_plain_http_only_on_loopback(tmp_path):
    cfg = init_node(tmp_path / "a", "a")
    assert cfg.api_url.startswith("https://") and not cfg.check_plain_http()
    assert init_node(tmp_path / "b", "b", plain_http=True).api_url.startswith("http://127.0.0.1")
    with pytest.raises(ConfigError, match="plain HTTP is allowed only on a loopback"):
        init_node(tmp_path / "c", "c", host="0.0.0.0", plain_http=True)
    assert not (tmp_path / "c").exists()     # refused before anything was written
    wide = init_node(tmp_path / "d", "d", host="0.0.0.0")
    with pytest.raises(ConfigError, match="loopback"):
        wide.check_plain_http(True)          # `node serve --plain-http` on 0.0.0.0
    (tmp_path / "d" / "node.yaml").write_text(
        (tmp_path / "d" / "node.yaml").read_text() + "cert_warn_days: -1\n")
    with pytest.raises(ConfigError, match="cert_warn_days"):
        NodeConfig.load(tmp_path / "d")


def test_serve_refuses_plain_http_off_loopback(tmp_path, capsys):
    init_node(tmp_path / "w", "w", host="0.0.0.0")
    assert cli(["node", "serve", "--home", str(tmp_path / "w"), "--plain-http"]) == 1
    assert "plain HTTP is allowed only on a loopback address" in capsys.readouterr().err


def test_clients_refuse_to_send_tokens_in_clear():
    check_url("http://127.0.0.1:8700")
    check_url("http://[::1]:8700")
    check_url("https://broker.example:8700")
    for url in ("http://10.0.0.5:8700", "http://broker.example:8700", "ftp://x"):
        with pytest.raises(ValueError):
            check_url(url)


def test_cli_refuses_plain_http_to_a_remote_node(tmp_path, capsys):
    (tmp_path / "t").write_text("secret-token")
    with pytest.raises(SystemExit, match="would send the API token in clear"):
        cli(["job", "list", "--api", "http://192.0.2.1:8700", "--token-file",
             str(tmp_path / "t")])


def test_api_serves_the_node_certificate_and_clients_verify_it(node, tmp_path):
    token = node.add_token("op", "operator")
    tls = ServerTls(node.cfg.cert_file, node.cfg.key_file)
    with serve(create_app(node), ssl_context=tls.context) as url:
        assert url.startswith("https://127.0.0.1:")
        ok = httpx.get(f"{url}/jobs", headers={"Authorization": f"Bearer {token}"},
                       verify=client_verify(url, node.cfg.cert_file))
        assert ok.status_code == 200
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{url}/health", verify=True)          # system CAs do not know it
        other = init_node(tmp_path / "o", "other")             # another node's certificate
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{url}/health", verify=client_verify(url, other.cert_file))
        with pytest.raises(httpx.HTTPError):                     # no plain HTTP on that port
            httpx.get(url.replace("https://", "http://") + "/health")
        # the CLI with --api-ca
        (tmp_path / "tok").write_text(token)
        assert cli(["job", "list", "--api", url, "--api-ca", str(node.cfg.cert_file),
                    "--token-file", str(tmp_path / "tok")]) == 0


def test_client_ca_file_must_exist(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        client_verify("https://127.0.0.1:1", tmp_path / "missing.crt")
    assert isinstance(client_verify("https://127.0.0.1:1", init_node(
        tmp_path / "x", "x").cert_file), ssl.SSLContext)


def test_docs_page_loads_nothing_from_another_host(node):
    client = TestClient(create_app(node))
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    refs = re.findall(r'(?:src|href|url)\s*[=:]\s*["\']([^"\']+)["\']', page.text)
    assert refs and all(r.startswith("/") and not r.startswith("//") for r in refs), refs
    assert "validatorUrl" in page.text and "null" in page.text   # no spec validator call
    for ref in refs:
        assert client.get(ref).status_code == 200, ref           # every asset is served here
    assert client.get("/redoc").status_code == 404               # the CDN-backed page is gone
