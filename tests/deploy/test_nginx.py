"""deploy/nginx/evenkeel.conf, the README's reverse-proxy example, passes `nginx -t`.

The example is included into a minimal nginx.conf (as /etc/nginx/conf.d/ would be) with its
certificate paths pointed at a throwaway self-signed certificate. Skipped only when nginx is not
installed; scripts/install-system-deps.sh (run by `make test-e2e`) installs it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "deploy" / "nginx" / "evenkeel.conf"


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (scripts/install-system-deps.sh)")
def test_the_nginx_example_passes_nginx_t(tmp_path: Path) -> None:
    cert, key = tmp_path / "test.crt", tmp_path / "test.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=example.com",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    text = EXAMPLE.read_text()
    assert re.search(r"ssl_certificate\s", text) and re.search(r"ssl_certificate_key\s", text)
    text = re.sub(r"(ssl_certificate)\s+\S+;", rf"\1 {cert};", text)
    text = re.sub(r"(ssl_certificate_key)\s+\S+;", rf"\1 {key};", text)
    (tmp_path / "evenkeel.conf").write_text(text)
    (tmp_path / "nginx.conf").write_text(
        f"""pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/evenkeel.conf;
}}
"""
    )
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_the_example_forwards_only_public_paths() -> None:
    text = EXAMPLE.read_text()
    forwarded = set(re.findall(r"location\s+(?:=\s+)?(\S+)\s*\{[^}]*proxy_pass", text))
    assert forwarded == {
        "/webhooks/webchat/", "/webhooks/twilio_sms/", "/webhooks/twilio_voice/",
        "/pay/", "/receipts/", "/static/", "/webhooks/", "/console",
    }  # fmt: skip
    assert "/api" not in forwarded and "/conversations" not in forwarded
