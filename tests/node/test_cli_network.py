"""`yinji network demo`: five node processes up (four companies and the group node), the
scenario and every app over REST, all down."""

import subprocess
import sys

import pytest
import yaml

pytestmark = pytest.mark.tls


def test_network_demo_and_clean_shutdown(tmp_path):
    out = subprocess.run([sys.executable, "-m", "yinji.cli.main", "network", "demo", "--dir",
                          str(tmp_path), "--reports", str(tmp_path / "reports")],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "DEMO OK" in out.stdout
    assert out.stdout.count("audit verify") == 5
    apps = ("qualified-investor", "blacklist-screening", "risk-lookthrough",
            "risk-model-training", "joint-aml",
            "consolidated-reporting", "customer-view", "lead-mining", "meeting-booking")
    for app in apps:
        assert f"app {app}: " in out.stdout and (tmp_path / "reports" / app).is_dir(), app
    # every app, and the one call of the published scenario API
    assert out.stdout.count("matches the plaintext computation") == len(apps) + 1
    assert "scenario API /scenarios/qualified-investor-check/v1" in out.stdout
    assert "FAILED" not in out.stdout
    assert "securities' own keys: " in out.stdout and " kept, 0 empty, 0 invalid" in out.stdout
    nodes = yaml.safe_load((tmp_path / "network.yaml").read_text())["nodes"]
    assert not any((tmp_path / n / "node.pid").exists() for n in nodes)
    assert oct((tmp_path / "tokens.yaml").stat().st_mode & 0o777) == "0o600"
    for n in nodes:
        assert oct((tmp_path / n / "tls" / "node.key").stat().st_mode & 0o777) == "0o600"
        assert oct((tmp_path / n / "signing.key").stat().st_mode & 0o777) == "0o600"
    # no token or key material in what the demo printed
    tokens = yaml.safe_load((tmp_path / "tokens.yaml").read_text())
    assert not any(t in out.stdout + out.stderr for r in tokens.values() for t in r.values())
    assert "PRIVATE KEY" not in out.stdout + out.stderr
