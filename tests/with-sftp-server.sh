#!/usr/bin/env bash
# Runs a command with an SFTP server (Debian's OpenSSH server, installed with
# apt when missing) on loopback, run as the unprivileged user `sftptest` with
# a host key generated here; password (PAM) and public-key logins both work.
# Its URL is in PATCHBAY_SFTP_URL, a folder it may write in PATCHBAY_SFTP_ROOT,
# the login in PATCHBAY_SFTP_USER, PATCHBAY_SFTP_PASSWORD and
# PATCHBAY_SFTP_KEY (a private key file), its host key line in
# PATCHBAY_SFTP_HOST_KEY.
#   tests/with-sftp-server.sh cargo nextest run --workspace
set -euo pipefail
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
user="sftptest"
password="sftp-password-0123"
if [ ! -x /usr/sbin/sshd ]; then
    echo "==> installing the SFTP test server (apt: openssh-server)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
fi
if ! id "$user" >/dev/null 2>&1; then
    echo "==> adding the user $user, whom the SFTP test server runs as"
    $sudo useradd --create-home --shell /bin/sh "$user"
fi
echo "$user:$password" | $sudo chpasswd
as_user() { if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else sudo -u "$user" -- "$@"; fi; }
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
dir="$(mktemp -d)"
chmod 755 "$dir"
# What the server's user owns: its keys, its configuration, its log.
ssh_dir="$dir/ssh"
mkdir "$ssh_dir" "$dir/files"
ssh-keygen -q -t ed25519 -N "" -C "patchbay-test-client" -f "$dir/client_key"
cp "$dir/client_key.pub" "$ssh_dir/authorized_keys"
cat >"$ssh_dir/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $ssh_dir/host_ed25519
PidFile $ssh_dir/sshd.pid
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile $ssh_dir/authorized_keys
StrictModes no
Subsystem sftp internal-sftp
CONF
$sudo chown -R "$user" "$ssh_dir" "$dir/files"
chmod 777 "$dir/files"
as_user ssh-keygen -q -t ed25519 -N "" -C "patchbay-test-host" -f "$ssh_dir/host_ed25519"
[ -d /run/sshd ] || $sudo mkdir -p /run/sshd
as_user /usr/sbin/sshd -f "$ssh_dir/sshd_config" -E "$ssh_dir/sshd.log"
stop() {
    if [ -s "$ssh_dir/sshd.pid" ]; then $sudo kill "$(cat "$ssh_dir/sshd.pid")" 2>/dev/null || true; fi
    $sudo rm -rf "$dir"
}
trap stop EXIT
ready() { python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()' "$port" 2>/dev/null; }
for _ in $(seq 1 100); do
    ready && break
    sleep 0.1
done
ready || { echo "the SFTP test server did not start within 10 s" >&2; cat "$ssh_dir/sshd.log" >&2; exit 1; }
export PATCHBAY_SFTP_URL="sftp://127.0.0.1:$port"
export PATCHBAY_SFTP_ROOT="$dir/files"
export PATCHBAY_SFTP_USER="$user"
export PATCHBAY_SFTP_PASSWORD="$password"
export PATCHBAY_SFTP_KEY="$dir/client_key"
PATCHBAY_SFTP_HOST_KEY="$(cut -d' ' -f1,2 "$ssh_dir/host_ed25519.pub")"
export PATCHBAY_SFTP_HOST_KEY
echo "==> SFTP test server (OpenSSH, as $user) at $PATCHBAY_SFTP_URL"
"$@"
