#!/usr/bin/env bash
# Makes WordPress and MariaDB available to tests/test_push_wordpress.py (tests/wordpress.py).
#
# Usage: bash .ci/wp-setup.sh
#
# Installs Debian's `wordpress` with PHP's CLI, mysqli and xml extensions when
# /usr/share/wordpress or one of them is missing. The test wants MariaDB at
# $SYNDBOT_TEST_MARIADB (default 127.0.0.1:3306) as root without a password: when nothing
# answers on 127.0.0.1:3306, `mariadb-server` is installed and started, and root may then
# log in from 127.0.0.1 without a password (a throwaway CI server, bound to loopback only).
set -euo pipefail

say() { echo "wp-setup: $*" >&2; }

install() {
  apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >&2
}

has_php_module() { command -v php >/dev/null && php -m | grep -qx "$1"; }

if [ ! -f /usr/share/wordpress/wp-settings.php ] || ! has_php_module mysqli \
  || ! has_php_module xml; then
  say "installing wordpress php-cli php-mysql php-xml"
  install wordpress php-cli php-mysql php-xml
fi

if [ -n "${SYNDBOT_TEST_MARIADB:-}" ]; then
  say "using MariaDB at $SYNDBOT_TEST_MARIADB"
  exit 0
fi
if (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null; then
  say "MariaDB answers on 127.0.0.1:3306"
  exit 0
fi
if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
  say "installing mariadb-server"
  install mariadb-server
fi
mkdir -p /etc/mysql/mariadb.conf.d
printf '[mysqld]\nbind-address = 127.0.0.1\nport = 3306\n' \
  > /etc/mysql/mariadb.conf.d/99-syndbot-tests.cnf
if ! (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null; then
  say "starting MariaDB"
  service mariadb start >&2 || /etc/init.d/mariadb start >&2
fi
for _ in $(seq 1 30); do
  (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null && break
  sleep 1
done
# Debian's root logs in through the Unix socket only; the test connects over TCP.
mariadb -u root -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
  GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
say "MariaDB started on 127.0.0.1:3306"
