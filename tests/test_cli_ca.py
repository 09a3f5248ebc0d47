"""`yinji ca init / issue` and the local TLS checks that `yinji pir` runs before it builds or
dials anything (a local mistake is exit 2 naming the file, never 'every member down')."""

import os
import socket
import stat

import pytest

from yinji.cli import pir as cli_pir
from yinji.cli.main import main
from yinji.crypto.certs import cert_names


@pytest.fixture
def group(tmp_path):
    ca = tmp_path / "ca"
    assert main(["ca", "init", "--dir", str(ca), "--name", "Test group CA"]) == 0
    for name in ("broker", "officer"):
        assert main(["ca", "issue", "--dir", str(ca), "--name", name,
                     "--out", str(tmp_path / name)]) == 0
    return tmp_path


def flags(root, name, ca=None, key=None):
    return ["--cert", str(root / name / f"{name}.crt"),
            "--tls-key", str(key or root / name / f"{name}.key"),
            "--ca", str(ca or root / "ca" / "ca.crt")]


def test_init_and_issue_write_private_keys(group, capsys):
    assert cert_names((group / "broker" / "broker.crt").read_bytes()) == ["broker"]
    for key in (group / "ca" / "ca.key", group / "broker" / "broker.key"):
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert main(["ca", "init", "--dir", str(group / "ca")]) == 2
    assert "already holds a CA" in capsys.readouterr().err
    assert main(["ca", "issue", "--dir", str(group / "nowhere"), "--name", "x"]) == 2
    assert "run `yinji ca init` first" in capsys.readouterr().err
    assert main(["ca", "issue", "--dir", str(group / "ca"), "--name", "x",
                 "--days", "99999"]) == 2
    assert "the CA itself is valid for" in capsys.readouterr().err


def test_local_tls_mistakes_are_local_errors(group, tmp_path, capsys):
    assert main(["ca", "init", "--dir", str(tmp_path / "other")]) == 0
    capsys.readouterr()

    def query_error(*tls):
        rc = main(["pir", "query", "--member", "broker=127.0.0.1:9", "--key", "k", *tls])
        assert rc == 2
        return capsys.readouterr().err

    err = query_error(*flags(group, "officer", key=group / "broker" / "broker.key"))
    assert "officer.key" not in err and "broker.key: does not belong to the certificate" in err
    err = query_error(*flags(group, "officer", ca=tmp_path / "other" / "ca.crt"))
    assert "officer.crt: not issued by the CA in --ca" in err
    (tmp_path / "junk.pem").write_text("not a certificate")
    assert "not a PEM certificate" in query_error(*flags(group, "officer",
                                                         ca=tmp_path / "junk.pem"))


def test_serve_checks_the_port_before_building(group, tmp_path, capsys):
    listing = tmp_path / "list.csv"
    listing.write_text("id,tag\n" + "".join(f"ID{i:05d},t\n" for i in range(10)), "utf-8")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        rc = main(["pir", "serve", "--list", str(listing), "--key-column", "id",
                   "--label-columns", "tag", "--listen", f"127.0.0.1:{port}",
                   *flags(group, "broker")])
    err = capsys.readouterr().err
    assert rc == 2 and f"--listen 127.0.0.1:{port}: cannot listen there" in err
    assert "records from" not in err  # refused before the list was read and built


def test_expired_own_certificate_is_named(tmp_path):
    import datetime as dt

    from yinji.crypto.certs import issue_cert, make_ca, write_cert_key
    from yinji.net.connect import TlsConfig

    ca = make_ca("ca")
    ca_file = tmp_path / "ca.crt"
    ca_file.write_bytes(ca.cert_pem)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    cert, key = write_cert_key(issue_cert(ca, "officer", not_before=past,
                                          not_after=past + dt.timedelta(days=1)), tmp_path, "o")
    with pytest.raises(cli_pir.CliError, match="own certificate .* expired"):
        cli_pir.check_tls_files("officer", TlsConfig(cert, key, ca_file))
