"""A real WordPress for the tests (a pytest plugin, loaded by ``tests/conftest.py``).

Debian's ``wordpress`` package (with ``php-cli``, ``php-mysql`` and ``php-xml``) is copied to a
temporary directory with its own ``wp-config.php`` (``tests/wp/``) and served by PHP's
built-in server on a free loopback port; its database is a throwaway one on the MariaDB at
``$SYNDBOT_TEST_MARIADB`` (``host:port``, default ``127.0.0.1:3306``, user root without a
password), dropped afterwards. ``.ci/run`` installs the packages and starts MariaDB when
they are missing. The install is completed the way a person does it (POST to
``wp-admin/install.php``).

WordPress never reaches the internet: ``WP_HTTP_BLOCK_EXTERNAL`` with only 127.0.0.1
accessible, automatic updates off, WP-Cron only when the test requests it, and a must-use
plugin that logs every outgoing request (``WordPress.outgoing()``), refuses any not to
127.0.0.1 and sends no mail.

Without the packages or the database the tests marked ``wordpress`` skip, saying why; under
``CI=true`` such a skip fails the run, so CI cannot pass without them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.pushkit import free_port, wait_for

DEBIAN_WORDPRESS = Path("/usr/share/wordpress")
HERE = Path(__file__).resolve().parent / "wp"
ENV = "SYNDBOT_TEST_MARIADB"
USER, PASSWORD = "admin", "correct horse battery staple 42"
PACKAGES = "wordpress php-cli php-mysql php-xml"
SALTS = [
    f"{kind}_{what}"
    for what in ("KEY", "SALT")
    for kind in ("AUTH", "SECURE_AUTH", "LOGGED_IN", "NONCE")
]


def _php(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["php", *args], capture_output=True, text=True, timeout=60, check=True)


def _sql(host: str, statement: str) -> None:
    """Run one statement as MariaDB's root through PHP's mysqli (no other client needed)."""
    name, _, port = host.partition(":")
    code = (
        "mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);"
        "$m = new mysqli($argv[2], 'root', '', '', (int) $argv[3]);"
        "$m->query($argv[1]);"
    )
    _php("-r", code, statement, name, port or "3306")


@dataclass
class WordPress:
    root: Path
    home: str
    app_password: str

    def api(self, method: str, route: str, **kwargs: object) -> httpx.Response:
        """A REST API call as the admin, authenticated with an application password."""
        response = httpx.request(
            method,
            f"{self.home}/",
            params={"rest_route": route},
            auth=(USER, self.app_password),
            timeout=30,
            trust_env=False,
            **kwargs,  # type: ignore[arg-type]
        )
        assert response.is_success, f"{method} {route}: {response.status_code} {response.text}"
        return response

    def run_cron(self) -> None:
        """What a visitor's request (or a system cron) does: run WP-Cron's due events."""
        httpx.get(f"{self.home}/wp-cron.php", timeout=30, trust_env=False).raise_for_status()

    def requests(self) -> list[str]:
        """Every request WordPress was sent, in order, as ``METHOD /path?query STATUS``."""
        log = self.root.parent / "requests.log"
        return log.read_text(encoding="utf-8").splitlines() if log.exists() else []

    def outgoing(self) -> list[str]:
        """Every URL WordPress tried to request, in order."""
        log = self.root / "wp-content" / "outgoing.log"
        return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def _missing() -> str | None:
    if not (DEBIAN_WORDPRESS / "wp-settings.php").exists():
        return f"no WordPress at {DEBIAN_WORDPRESS} (apt-get install {PACKAGES})"
    if shutil.which("php") is None:
        return f"no php (apt-get install {PACKAGES})"
    modules = _php("-m").stdout.split()
    if "mysqli" not in modules:
        return "PHP has no mysqli (apt-get install php-mysql)"
    if "xml" not in modules:  # WordPress's XML-RPC client cannot read an answer without it
        return "PHP has no xml extension (apt-get install php-xml)"
    return None


def _install_copy(root: Path, home: str, db_host: str, db_name: str) -> None:
    # A real copy (PHP resolves symlinks, and Debian's wp-config.php would be found
    # beside them), without the 30 MB of translations and the symlinked .htaccess.
    shutil.copytree(
        DEBIAN_WORDPRESS,
        root,
        ignore=lambda folder, names: [n for n in names if n in {"languages", ".htaccess"}],
    )
    salts = "\n".join(f"define('{key}', '{secrets.token_hex(32)}');" for key in SALTS)
    config = (HERE / "wp-config.php.in").read_text(encoding="utf-8")
    for marker, value in {
        "@DB_NAME@": db_name,
        "@DB_HOST@": db_host,
        "@HOME@": home,
        "@SALTS@": salts,
    }.items():
        config = config.replace(marker, value)
    (root / "wp-config.php").write_text(config, encoding="utf-8")
    (root / "wp-content" / "mu-plugins").mkdir()
    shutil.copy(HERE / "loopback-only.php", root / "wp-content" / "mu-plugins")
    (root / "wp-content" / "uploads").mkdir()


@pytest.fixture
def wordpress(tmp_path: Path) -> Iterator[WordPress]:
    """A freshly installed WordPress on a free loopback port, with an empty database, no
    posts or pages, pretty permalinks (``/%postname%/``) and its REST API reachable."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    db_host = os.environ.get(ENV) or "127.0.0.1:3306"
    db_name = f"syndbot_wp_{secrets.token_hex(4)}"
    try:
        _sql(db_host, f"CREATE DATABASE `{db_name}` CHARACTER SET utf8mb4")
    except subprocess.CalledProcessError as exc:
        said = (exc.stdout + exc.stderr).strip().splitlines() or [""]
        pytest.skip(f"no MariaDB at {db_host} as root ({said[0][:200]}); set {ENV}")
    port = free_port()
    home = f"http://127.0.0.1:{port}"
    root = tmp_path / "wordpress"
    server: subprocess.Popen[bytes] | None = None
    log = (tmp_path / "php-server.log").open("wb")
    try:
        _install_copy(root, home, db_host, db_name)
        server = subprocess.Popen(
            ["php", "-S", f"127.0.0.1:{port}", "-t", str(root), str(HERE / "router.php")],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={**os.environ, "PHP_CLI_SERVER_WORKERS": "4"},
        )
        wait_for("PHP's server", lambda: _answers(f"{home}/readme.html"), timeout=15)
        response = httpx.post(
            f"{home}/wp-admin/install.php?step=2",
            data={
                "weblog_title": "Volt Lane",
                "user_name": USER,
                "admin_password": PASSWORD,
                "admin_password2": PASSWORD,
                "admin_email": "admin@volt.invalid",
                "blog_public": "1",
                "language": "",
            },
            timeout=60,
            trust_env=False,
        )
        assert response.status_code == 200, response.text
        assert "wp-login.php" in response.text, response.text  # "Success!", and a log-in link
        password = _php(str(HERE / "setup.php"), str(root)).stdout.strip()
        assert len(password) >= 24, password
        yield WordPress(root=root, home=home, app_password=password)
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        log.close()
        _sql(db_host, f"DROP DATABASE IF EXISTS `{db_name}`")


def set_update_services(wp: WordPress, *urls: str) -> None:
    """Settings → Writing → Update Services: the ``ping_sites`` option, one URL a line."""
    code = (
        "$_SERVER['HTTP_HOST'] = '127.0.0.1'; require $argv[1] . '/wp-load.php';"
        "update_option('ping_sites', $argv[2]); echo get_option('ping_sites');"
    )
    shown = _php("-r", code, str(wp.root), "\n".join(urls)).stdout
    assert shown.split() == list(urls), shown


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=2, trust_env=False)
    except httpx.TransportError:
        return False
    return True


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "wordpress: needs Debian's WordPress and MariaDB")
