#!/usr/bin/env bash
# kokasen installer: takes a fresh Debian 12 server, as root, to the running portal.
#
#   sudo ./deploy/install.sh --domain portal.example.go.jp --ssh-networks 203.0.113.0/24 \
#       --smtp-host smtp.example.go.jp --admin-email kanri@example.go.jp \
#       --cert /root/fullchain.pem --key /root/privkey.pem        # or --self-signed for a trial
#
# Every step looks before it changes anything and counts what it changed; a second run prints
# 変更なし and "changes=0" as its last line. The environment file /etc/kokasen/kokasen.env is
# written once and then read: to change a setting, edit that file and run the installer again.
# docs/operations.md (新しいサーバーへの導入) walks through it; docs/decisions/0029-installer.md
# says why it is built this way. --root installs into a scratch folder for the tests.
set -Eeuo pipefail
shopt -s nullglob

SOURCE_DIR=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
readonly SOURCE_DIR
readonly WEB_GROUP=www-data   # nginx's workers (user www-data in Debian's nginx.conf)
readonly PACKAGES=(
    ca-certificates openssl rsync python3 python3-venv
    postgresql redis-server nginx
    clamav clamav-daemon clamav-freshclam
    fail2ban python3-systemd nftables logrotate
    fonts-noto-cjk fonts-ipaexfont-gothic
    restic monit
)

usage() {
    cat <<'EOF'
使い方: deploy/install.sh [オプション]   （root で実行。2回目以降は省略可: 環境ファイルの値を使います）

  --domain NAME            ポータルのホスト名（例 portal.example.go.jp）            [KOKASEN_DOMAIN]
  --cert FILE --key FILE   サーバー証明書（中間証明書を含む fullchain）と秘密鍵  [KOKASEN_TLS_CERT, KOKASEN_TLS_KEY]
  --chain FILE             発行元CAの証明書（OCSPステープリング用。省略時は fullchain の2枚目以降） [KOKASEN_TLS_CHAIN]
  --self-signed            試用: 自己署名証明書を作る（証明書がまだないときだけ）  [KOKASEN_SELF_SIGNED=1]
  --ssh-networks LIST      SSH を許すネットワーク（カンマ区切り。必須）           [SSH_ALLOWED_NETWORKS]
  --admin-networks LIST    管理画面を開けるネットワーク（空ならすべて）           [ADMIN_ALLOWED_NETWORKS]
  --health-networks LIST   /healthz と /readyz を問い合わせる監視のネットワーク   [HEALTH_ALLOWED_NETWORKS]
  --fail2ban-ignore LIST   fail2ban が遮断しないネットワーク（中継ゲートウェイなど） [FAIL2BAN_IGNORE_NETWORKS]
  --smtp-host HOST         メール中継サーバー（必須）                             [EMAIL_HOST]
  --smtp-port PORT         ポート（既定 587、STARTTLS）                           [EMAIL_PORT]
  --smtp-user USER         SMTP 認証のユーザー                                   [EMAIL_HOST_USER]
  --smtp-password-file F   SMTP 認証のパスワードを書いたファイル                  [KOKASEN_SMTP_PASSWORD_FILE]
  --mail-from ADDRESS      送信者（既定「こども家庭庁 運営事務局 <noreply@ドメイン>」）[DEFAULT_FROM_EMAIL]
  --admin-email ADDRESS    最初の管理者のメールアドレス（初回は必須）             [KOKASEN_ADMIN_EMAIL]
  --admin-user NAME        最初の管理者のユーザーID（既定 admin）                 [KOKASEN_ADMIN_USER]
  --root DIR               このフォルダーの下に導入する（テスト用。既定 /）       [KOKASEN_ROOT]
  --instance NAME          システムユーザー・データベースの名前（既定 kokasen）   [KOKASEN_INSTANCE]
  -h, --help               この説明

最後の行は機械向けの "changes=N"（N は変更した件数。2回目の実行では 0）。
EOF
}

die() { printf 'エラー: %s\n' "$*" >&2; exit 1; }
usage_error() { printf 'エラー: %s\n（deploy/install.sh --help）\n' "$*" >&2; exit 2; }

# --- Options: flags win over the environment; "given" is remembered to compare with the env file.
declare -A GIVEN=()
opt_from_env() {  # VAR ENVNAME: take $ENVNAME if it is set
    local var=$1 env_name=$2
    if [[ -n ${!env_name+x} ]]; then
        printf -v "$var" '%s' "${!env_name}"
        GIVEN[$var]=1
    fi
}
DOMAIN="" TLS_CERT="" TLS_KEY="" TLS_CHAIN="" SELF_SIGNED="" SSH_NETS="" ADMIN_NETS="" HEALTH_NETS=""
F2B_IGNORE="" SMTP_HOST="" SMTP_PORT="" SMTP_USER="" SMTP_PASSWORD_FILE="" MAIL_FROM="" ADMIN_EMAIL=""
ADMIN_USER="admin" ROOT="" INSTANCE="kokasen"
opt_from_env DOMAIN KOKASEN_DOMAIN
opt_from_env TLS_CERT KOKASEN_TLS_CERT
opt_from_env TLS_KEY KOKASEN_TLS_KEY
opt_from_env TLS_CHAIN KOKASEN_TLS_CHAIN
opt_from_env SELF_SIGNED KOKASEN_SELF_SIGNED
opt_from_env SSH_NETS SSH_ALLOWED_NETWORKS
opt_from_env ADMIN_NETS ADMIN_ALLOWED_NETWORKS
opt_from_env HEALTH_NETS HEALTH_ALLOWED_NETWORKS
opt_from_env F2B_IGNORE FAIL2BAN_IGNORE_NETWORKS
opt_from_env SMTP_HOST EMAIL_HOST
opt_from_env SMTP_PORT EMAIL_PORT
opt_from_env SMTP_USER EMAIL_HOST_USER
opt_from_env SMTP_PASSWORD_FILE KOKASEN_SMTP_PASSWORD_FILE
opt_from_env MAIL_FROM DEFAULT_FROM_EMAIL
opt_from_env ADMIN_EMAIL KOKASEN_ADMIN_EMAIL
opt_from_env ADMIN_USER KOKASEN_ADMIN_USER
opt_from_env ROOT KOKASEN_ROOT
opt_from_env INSTANCE KOKASEN_INSTANCE

while (($#)); do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --self-signed) SELF_SIGNED=1; GIVEN[SELF_SIGNED]=1; shift; continue ;;
        --domain | --cert | --key | --chain | --*-networks | --fail2ban-ignore | --smtp-* | --mail-from | --admin-* | --root | --instance) ;;
        *) usage_error "不明なオプション: $1" ;;
    esac
    (($# >= 2)) || usage_error "$1 には値が必要です"
    case $1 in
        --domain) DOMAIN=$2; GIVEN[DOMAIN]=1 ;;
        --cert) TLS_CERT=$2; GIVEN[TLS_CERT]=1 ;;
        --key) TLS_KEY=$2; GIVEN[TLS_KEY]=1 ;;
        --chain) TLS_CHAIN=$2; GIVEN[TLS_CHAIN]=1 ;;
        --ssh-networks) SSH_NETS=$2; GIVEN[SSH_NETS]=1 ;;
        --admin-networks) ADMIN_NETS=$2; GIVEN[ADMIN_NETS]=1 ;;
        --health-networks) HEALTH_NETS=$2; GIVEN[HEALTH_NETS]=1 ;;
        --fail2ban-ignore) F2B_IGNORE=$2; GIVEN[F2B_IGNORE]=1 ;;
        --smtp-host) SMTP_HOST=$2; GIVEN[SMTP_HOST]=1 ;;
        --smtp-port) SMTP_PORT=$2; GIVEN[SMTP_PORT]=1 ;;
        --smtp-user) SMTP_USER=$2; GIVEN[SMTP_USER]=1 ;;
        --smtp-password-file) SMTP_PASSWORD_FILE=$2; GIVEN[SMTP_PASSWORD_FILE]=1 ;;
        --mail-from) MAIL_FROM=$2; GIVEN[MAIL_FROM]=1 ;;
        --admin-email) ADMIN_EMAIL=$2; GIVEN[ADMIN_EMAIL]=1 ;;
        --admin-user) ADMIN_USER=$2; GIVEN[ADMIN_USER]=1 ;;
        --root) ROOT=$2 ;;
        --instance) INSTANCE=$2 ;;
        *) usage_error "不明なオプション: $1" ;;
    esac
    shift 2
done

case ${SELF_SIGNED,,} in 1 | true | yes | on) SELF_SIGNED=1 ;; *) SELF_SIGNED="" ;; esac
[[ $(id -u) == 0 ]] || die "root で実行してください（sudo deploy/install.sh …）。"
ROOT=${ROOT%/}
if [[ -n $ROOT ]]; then
    [[ $ROOT == /* && $ROOT =~ ^[A-Za-z0-9._/-]+$ ]] || usage_error "--root は英数字と ._/- だけの絶対パスにしてください: $ROOT"
    [[ -d $ROOT ]] || usage_error "--root のフォルダーがありません: $ROOT"
fi
[[ $INSTANCE =~ ^[a-z][a-z0-9_]{0,30}$ ]] || usage_error "--instance は英小文字で始まる英小文字・数字・_ の31文字以内にしてください: $INSTANCE"
[[ $ADMIN_USER =~ ^[A-Za-z0-9._@+-]{1,150}$ ]] || usage_error "--admin-user に使えない文字があります: $ADMIN_USER"
if [[ -z $ROOT ]] && ! grep -q '^12\.' /etc/debian_version 2>/dev/null; then
    die "Debian 12 (bookworm) 用です。このサーバー: $(cat /etc/debian_version 2>/dev/null || echo 不明)"
fi

# --- Where everything goes (under --root for the tests; the same paths as deploy/ names otherwise).
readonly ETC=$ROOT/etc
readonly SRV=$ROOT/srv/kokasen
readonly APP=$SRV/app
readonly MEDIA=$SRV/media
readonly STATIC=$SRV/static
readonly PUBLIC_PAGES=$SRV/public-pages   # PUBLISHED_PAGES_ROOT (decision 0061)
readonly ERRORS=$SRV/errors
readonly CONF_DIR=$ETC/kokasen
readonly ENV_FILE=$CONF_DIR/kokasen.env
readonly CERT_DIR=$ETC/ssl/kokasen
readonly NGINX=$ETC/nginx
readonly NGINX_LOGS=$ROOT/var/log/nginx/kokasen
readonly UNIT_DIR=$ETC/systemd/system
readonly INSTALL_LOG=$ROOT/var/log/kokasen-install.log
readonly BACKUP_DIR=$ROOT/var/lib/kokasen/backup   # StateDirectory= of kokasen-backup.service
readonly BACKUP_KEY=$CONF_DIR/backup_key
readonly SYSTEM_USER=$INSTANCE
readonly DB_NAME=$INSTANCE
readonly DRILL_DB=${INSTANCE}_drill   # the restore drill's scratch database (kokasen/ops/backups.py)
# The host's own services (packages' units, debconf, the live firewall) are touched only by a
# real installation; systemd starts and reloads only where it runs as PID 1.
REAL=1 ONLINE=0
[[ -n $ROOT ]] && REAL=0
[[ $REAL == 1 && -d /run/systemd/system ]] && ONLINE=1
SYSTEMCTL=(systemctl)
[[ -n $ROOT ]] && SYSTEMCTL=(systemctl "--root=$ROOT")

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CHANGES=0
STEP=""
declare -A TOUCHED=()   # what changed, by area, for reloads at the end
trap 'printf "エラー: 手順「%s」で失敗しました（%s 行目）。詳細: %s\n" "$STEP" "$LINENO" "$INSTALL_LOG" >&2' ERR

mkdir -p "$(dirname "$INSTALL_LOG")"
touch "$INSTALL_LOG"
chmod 0640 "$INSTALL_LOG"
printf '\n=== %s deploy/install.sh %s\n' "$(date '+%F %T')" "$*" >>"$INSTALL_LOG"

step() { STEP=$1; printf '[%s]\n' "$1"; printf -- '--- %s (%s s)\n' "$1" "$SECONDS" >>"$INSTALL_LOG"; }
changed() { CHANGES=$((CHANGES + 1)); TOUCHED[$STEP]=1; printf '  変更: %s\n' "$*"; }
note() { printf '  %s\n' "$*"; }
warn() { printf '  警告: %s\n' "$*"; }

# Run a command with its output in the install log; on failure show the end of it and stop.
logged() {
    if ! "$@" >>"$INSTALL_LOG" 2>&1; then
        printf 'エラー: 失敗しました: %s\n--- %s の末尾 ---\n' "$*" "$INSTALL_LOG" >&2
        tail -n 30 "$INSTALL_LOG" >&2
        exit 1
    fi
}

# Paths in deploy/'s files, moved under --root (nothing changes without it).
render() {
    if [[ -n $ROOT ]]; then
        sed -E "s#(^|[[:space:]=:\"'-])/(etc|srv|var/log)/#\\1${ROOT}/\\2/#g" "$1"
    else
        cat "$1"
    fi
}

# The mode, owner and group of PATH as wanted; counted when they were not.
ensure_attrs() {
    local path=$1 mode=$2 owner=$3 group=$4
    local current
    current=$(stat -c '%a %U %G' "$path")
    if [[ $current != "$(printf '%o' $((8#$mode))) $owner $group" ]]; then
        chown -h "$owner:$group" "$path"
        chmod "$(printf '%05o' $((8#$mode)))" "$path"   # five digits: also clears setgid on directories
        changed "権限 $path ($current → $mode $owner:$group)"
    fi
}
ensure_dir() {
    local path=$1 mode=$2 owner=${3:-root} group=${4:-root}
    if [[ ! -d $path ]]; then
        mkdir -p "$path"
        chown "$owner:$group" "$path"
        chmod "$(printf '%05o' $((8#$mode)))" "$path"
        changed "フォルダー $path"
    else
        ensure_attrs "$path" "$mode" "$owner" "$group"
    fi
}
# Install the content of SRC as DEST (written only when it differs).
put_file() {
    local src=$1 dest=$2 mode=${3:-0644} owner=${4:-root} group=${5:-root}
    if [[ -f $dest && ! -L $dest ]] && cmp -s "$src" "$dest"; then
        ensure_attrs "$dest" "$mode" "$owner" "$group"
    else
        mkdir -p "$(dirname "$dest")"
        install -m "$mode" -o "$owner" -g "$group" "$src" "$dest"
        changed "$dest"
    fi
}
put_rendered() {  # SRC DEST [MODE]: a file of deploy/ with its paths moved under --root
    render "$1" >"$WORK/rendered"
    put_file "$WORK/rendered" "$2" "${3:-0644}"
}
ensure_link() {
    local target=$1 link=$2
    if [[ $(readlink "$link" 2>/dev/null || true) != "$target" ]]; then
        ln -sfn "$target" "$link"
        changed "リンク $link → $target"
    fi
}
remove_path() {
    if [[ -e $1 || -L $1 ]]; then
        rm -f "$1"
        changed "削除 $1"
    fi
}

# systemd: enable (works offline too); start or reload only where systemd runs.
unit_enable() {
    local unit
    for unit in "$@"; do
        if [[ $("${SYSTEMCTL[@]}" is-enabled "$unit" 2>/dev/null || true) != enabled ]]; then
            logged "${SYSTEMCTL[@]}" enable "$unit"
            changed "有効化 $unit"
        fi
    done
}
unit_start() {
    [[ $ONLINE == 1 ]] || return 0
    local unit
    for unit in "$@"; do
        if ! systemctl is-active --quiet "$unit"; then
            logged systemctl start "$unit"
            changed "起動 $unit"
        fi
    done
}
unit_reload_if() {  # AREA UNIT ACTION: reload/restart UNIT when AREA changed in this run
    [[ $ONLINE == 1 && -n ${TOUCHED[$1]:-} ]] || return 0
    systemctl is-active --quiet "$2" || return 0
    logged systemctl "$3" "$2"
    note "$2: $3"
}
debian_services() {  # enable and start the packages' own services (a real installation only)
    if [[ $REAL == 1 ]]; then
        unit_enable "$@"
        unit_start "$@"
    fi
}

# The environment file, read as systemd and kokasen.settings.env read it (NAME=value, one pair
# of quotes removed).
env_value() {
    local name=$1 line key value
    [[ -f $ENV_FILE ]] || return 0
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line#"${line%%[![:space:]]*}"}
        [[ -z $line || $line == \#* || $line == \;* || $line != *=* ]] && continue
        key=${line%%=*}
        key=${key%"${key##*[![:space:]]}"}
        [[ $key == "$name" ]] || continue
        value=${line#*=}
        value=${value#"${value%%[![:space:]]*}"}
        value=${value%"${value##*[![:space:]]}"}
        if [[ ${#value} -ge 2 && ( ${value:0:1} == '"' || ${value:0:1} == "'" ) && ${value: -1} == "${value:0:1}" ]]; then
            value=${value:1:${#value}-2}
        fi
        printf '%s' "$value"
    done <"$ENV_FILE"
}
env_has() { [[ -f $ENV_FILE ]] && grep -Eq "^[[:space:]]*$1[[:space:]]*=" "$ENV_FILE"; }

printf 'kokasen インストーラー（導入先 %s、インスタンス %s）\n' "${ROOT:-/}" "$INSTANCE"
if [[ $REAL == 0 ]]; then
    note "--root: ホストの Debian サービス・debconf・ファイアウォールは変更しません（ユーザー、PostgreSQL は作ります）。"
elif [[ $ONLINE == 0 ]]; then
    note "systemd が動いていません: サービスは有効化だけして、起動・再読み込みはしません。"
fi

# =============================================================================================
step "パッケージ"
if [[ $REAL == 1 ]]; then
    # Keep deploy/clamav/clamd.conf across clamav-daemon upgrades (docs/operations.md).
    if ! debconf-show clamav-daemon 2>/dev/null | grep -q 'clamav-daemon/debconf: false'; then
        echo 'clamav-daemon clamav-daemon/debconf boolean false' | debconf-set-selections
        changed "debconf: clamav-daemon/debconf = false（clamd.conf をパッケージ更新で上書きしない）"
    fi
fi
missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
    note "インストール: ${missing[*]}"
    logged apt-get update -q
    logged env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    changed "apt-get install ${missing[*]}"
fi

# =============================================================================================
step "設定値"
# Python checks the networks (ipaddress) and splits them for nftables.
networks() {  # LIST → "normalized|v4|v6", or exit 2 naming the bad entry
    python3 - "$1" "$2" <<'PY'
import ipaddress, sys
label, text = sys.argv[1], sys.argv[2]
nets = []
for item in (part.strip() for part in text.split(",")):
    if not item:
        continue
    try:
        nets.append(ipaddress.ip_network(item, strict=False))
    except ValueError:
        sys.exit(f"エラー: {label} の「{item}」は IP アドレスでもネットワークでもありません。")
def join(items):
    return ",".join(str(n) for n in items)
print(f"{join(nets)}|{join(n for n in nets if n.version == 4)}|{join(n for n in nets if n.version == 6)}")
PY
}
as_set() { tr ',' '\n' <<<"$1" | sort -u | paste -sd, -; }  # the same networks in any order
conflicts=()
from_file() {  # VAR NAME: the env file's value of NAME, or complain if a flag said otherwise
    local var=$1 name=$2 current
    current=$(env_value "$name")
    if [[ -n ${GIVEN[$var]:-} && ${!var} != "$current" ]]; then
        conflicts+=("$name（環境ファイル: ${current:-空}、指定: ${!var:-空}）")
    fi
    printf -v "$var" '%s' "$current"
}
if [[ -f $ENV_FILE ]]; then
    note "環境ファイル $ENV_FILE の値を使います。"
    base_url=$(env_value PORTAL_BASE_URL)
    if [[ -n ${GIVEN[DOMAIN]:-} && $base_url != "https://$DOMAIN" ]]; then
        conflicts+=("PORTAL_BASE_URL（環境ファイル: ${base_url:-空}、指定: https://$DOMAIN）")
    fi
    DOMAIN=${base_url#https://}
    DOMAIN=${DOMAIN%%/*}
    for pair in SSH_NETS:SSH_ALLOWED_NETWORKS ADMIN_NETS:ADMIN_ALLOWED_NETWORKS HEALTH_NETS:HEALTH_ALLOWED_NETWORKS \
        F2B_IGNORE:FAIL2BAN_IGNORE_NETWORKS; do
        var=${pair%%:*}
        if [[ -n ${GIVEN[$var]:-} ]]; then  # compare the normalized lists
            given=$(networks "${pair#*:}" "${!var}") || exit 2
            current=$(networks "${pair#*:}" "$(env_value "${pair#*:}")") || exit 2
            [[ $(as_set "${given%%|*}") == "$(as_set "${current%%|*}")" ]] ||
                conflicts+=("${pair#*:}（環境ファイル: ${current%%|*}、指定: ${given%%|*}）")
            unset "GIVEN[$var]"
        fi
        from_file "$var" "${pair#*:}"
    done
    from_file SMTP_HOST EMAIL_HOST
    from_file SMTP_PORT EMAIL_PORT
    from_file SMTP_USER EMAIL_HOST_USER
    from_file MAIL_FROM DEFAULT_FROM_EMAIL
    if ((${#conflicts[@]})); then
        printf 'エラー: 指定された値が環境ファイル %s と違います。環境ファイルを直してから、オプションなしで再実行してください。\n' "$ENV_FILE" >&2
        printf '  %s\n' "${conflicts[@]}" >&2
        exit 2
    fi
    env_has SSH_ALLOWED_NETWORKS || die "環境ファイルに SSH_ALLOWED_NETWORKS がありません。SSH を許すネットワークを書いてください。"
else
    [[ -n $DOMAIN ]] || usage_error "--domain が必要です（初回）"
    [[ -n $SSH_NETS ]] || usage_error "--ssh-networks が必要です（初回。SSH を許すネットワーク）"
    [[ -n $SMTP_HOST ]] || usage_error "--smtp-host が必要です（初回。メール中継サーバー）"
    [[ -n $ADMIN_EMAIL ]] || usage_error "--admin-email が必要です（初回。最初の管理者のメールアドレス）"
    SMTP_PORT=${SMTP_PORT:-587}
    MAIL_FROM=${MAIL_FROM:-"こども家庭庁 運営事務局 <noreply@$DOMAIN>"}
    [[ $SMTP_PORT =~ ^[0-9]+$ ]] || usage_error "--smtp-port は数字です: $SMTP_PORT"
fi
[[ $DOMAIN =~ ^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$ ]] || usage_error "ドメイン名として正しくありません: $DOMAIN"
[[ -z $ADMIN_EMAIL || $ADMIN_EMAIL == ?*@?* ]] || usage_error "--admin-email がメールアドレスではありません: $ADMIN_EMAIL"
[[ -z $SMTP_PASSWORD_FILE || -r $SMTP_PASSWORD_FILE ]] || usage_error "--smtp-password-file を読めません: $SMTP_PASSWORD_FILE"
IFS='|' read -r SSH_NETS SSH_V4 SSH_V6 < <(networks SSH_ALLOWED_NETWORKS "$SSH_NETS" || echo "!")
[[ $SSH_NETS != "!" ]] || exit 2
[[ -n $SSH_NETS ]] || usage_error "SSH_ALLOWED_NETWORKS が空です: SSH を許すネットワークを指定してください。"
for pair in ADMIN_NETS:ADMIN_ALLOWED_NETWORKS HEALTH_NETS:HEALTH_ALLOWED_NETWORKS F2B_IGNORE:FAIL2BAN_IGNORE_NETWORKS; do
    var=${pair%%:*}
    parsed=$(networks "${pair#*:}" "${!var}") || exit 2
    printf -v "$var" '%s' "${parsed%%|*}"
done
note "ドメイン $DOMAIN、SSH: $SSH_NETS、管理画面: ${ADMIN_NETS:-すべてのネットワーク}"

# =============================================================================================
step "システムユーザー"
if ! getent passwd "$SYSTEM_USER" >/dev/null; then
    useradd --system --user-group --home-dir "$SRV" --no-create-home --shell /usr/sbin/nologin \
        --comment "kokasen portal" "$SYSTEM_USER"
    changed "ユーザー $SYSTEM_USER"
fi
# The app stores files that nginx sends (MEDIA_ROOT, STATIC_ROOT, PUBLISHED_PAGES_ROOT): their folders belong to the group
# www-data with the setgid bit, so every file is created in that group, and a file moved in from
# a temporary folder is given the folder's group by Django, which needs this membership. nginx is
# not in the group kokasen, so it can never read the environment file or the secrets.
if ! id -nG "$SYSTEM_USER" | tr ' ' '\n' | grep -qx "$WEB_GROUP"; then
    usermod -a -G "$WEB_GROUP" "$SYSTEM_USER"
    changed "$SYSTEM_USER をグループ $WEB_GROUP に追加（保存したファイルを nginx が読めるように）"
fi

# =============================================================================================
step "フォルダー"
ensure_dir "$SRV" 0755
ensure_dir "$APP" 0755
ensure_dir "$APP/var" 0750 "$SYSTEM_USER" "$SYSTEM_USER"
ensure_dir "$MEDIA" 2750 "$SYSTEM_USER" "$WEB_GROUP"
ensure_dir "$STATIC" 2750 "$SYSTEM_USER" "$WEB_GROUP"
ensure_dir "$PUBLIC_PAGES" 2750 "$SYSTEM_USER" "$WEB_GROUP"
ensure_dir "$ERRORS" 0755
ensure_dir "$CONF_DIR" 0750 root "$SYSTEM_USER"
ensure_dir "$NGINX_LOGS" 0755
ensure_dir "$ROOT/var/lib/kokasen" 0755
ensure_dir "$BACKUP_DIR" 0700 "$SYSTEM_USER" "$SYSTEM_USER"
# Files stored before (an older layout, a restored backup): the group www-data and setgid folders.
for folder in "$MEDIA" "$STATIC" "$PUBLIC_PAGES"; do
    wrong=$(find "$folder" \( ! -group "$WEB_GROUP" -o \( -type d ! -perm -2050 \) -o \( -type f ! -perm -0040 \) \) -print | wc -l)
    if ((wrong)); then
        find "$folder" ! -group "$WEB_GROUP" -exec chgrp -h "$WEB_GROUP" {} +
        find "$folder" -type d -exec chmod g+rxs {} +
        find "$folder" -type f -exec chmod g+r {} +
        changed "$folder: $wrong 件をグループ $WEB_GROUP で読めるように"
    fi
done

# =============================================================================================
step "アプリケーション"
if [[ $SOURCE_DIR != "$APP" ]]; then
    rsync -rlptO --delete --itemize-changes --chmod=go-w,a+rX \
        --exclude=/.git --exclude=/.venv --exclude=/var/ --exclude=/tools/node_modules \
        --exclude=/artifacts/ --exclude=__pycache__/ --exclude='*.pyc' --exclude=.pytest_cache/ \
        --exclude=.ruff_cache/ --exclude=node_modules/ \
        "$SOURCE_DIR/" "$APP/" >"$WORK/rsync"
    count=$(wc -l <"$WORK/rsync")
    if ((count)); then
        cat "$WORK/rsync" >>"$INSTALL_LOG"
        changed "コード $SOURCE_DIR → $APP（$count 件）"
    fi
fi
[[ -f $APP/requirements.txt && -x $APP/deploy/bin/kokasen-manage ]] || die "$APP にアプリケーションがありません。"
if [[ ! -x $APP/.venv/bin/python ]]; then
    logged /usr/bin/python3 -m venv "$APP/.venv"
    changed "仮想環境 $APP/.venv"
fi
wanted_stamp="$(sha256sum <"$APP/requirements.txt" | cut -d' ' -f1) $("$APP/.venv/bin/python" -c 'import sys; print(sys.version.split()[0])')"
if [[ $(cat "$APP/.venv/kokasen-requirements" 2>/dev/null || true) != "$wanted_stamp" ]]; then
    note "Python のパッケージを入れています（requirements.txt）…"
    logged "$APP/.venv/bin/pip" install --no-input --require-virtualenv -r "$APP/requirements.txt"
    printf '%s\n' "$wanted_stamp" >"$APP/.venv/kokasen-requirements"
    changed "Python のパッケージ（requirements.txt）"
fi
# The services cannot write the code folder: compile the bytecode now (what compileall would redo).
stale=$("$APP/.venv/bin/python" - "$APP/kokasen" <<'PY'
import importlib.util, os, pathlib, sys
stale = 0
for source in pathlib.Path(sys.argv[1]).rglob("*.py"):
    cache = importlib.util.cache_from_source(str(source))
    try:
        with open(cache, "rb") as f:
            header = f.read(16)
    except OSError:
        stale += 1
        continue
    st = source.stat()
    if int.from_bytes(header[8:12], "little") != int(st.st_mtime) & 0xFFFFFFFF or int.from_bytes(header[12:16], "little") != st.st_size & 0xFFFFFFFF:
        stale += 1
print(stale)
PY
)
if ((stale)); then
    logged "$APP/.venv/bin/python" -m compileall -q "$APP/kokasen"
    changed "バイトコード（$stale ファイル）"
fi
mkdir -p "$ROOT/usr/local/bin"
ensure_link "$APP/deploy/bin/kokasen-manage" "$ROOT/usr/local/bin/kokasen-manage"

# =============================================================================================
step "PostgreSQL"
debian_services postgresql
psql_as_postgres() { (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -tA "$@"); }
for _ in 1 2 3 4 5 6 7 8 9 10; do
    pg_isready -q -h /run/postgresql && break
    sleep 1
done
pg_isready -q -h /run/postgresql || die "PostgreSQL が応答しません（systemctl status postgresql）。"
if [[ $(psql_as_postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_NAME'") != 1 ]]; then
    psql_as_postgres -c "CREATE ROLE \"$DB_NAME\" LOGIN" >/dev/null
    changed "ロール $DB_NAME（パスワードなし: 同名の OS ユーザーだけがソケットで接続）"
fi
owner=$(psql_as_postgres -c "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '$DB_NAME'")
if [[ -z $owner ]]; then
    (cd / && logged runuser -u postgres -- createdb -E UTF8 -T template0 -O "$DB_NAME" "$DB_NAME")
    changed "データベース $DB_NAME"
elif [[ $owner != "$DB_NAME" ]]; then
    psql_as_postgres -c "ALTER DATABASE \"$DB_NAME\" OWNER TO \"$DB_NAME\"" >/dev/null
    changed "データベース $DB_NAME の所有者 → $DB_NAME"
fi

# The restore drill's scratch database, emptied after each drill (kokasen-backup-drill.timer).
drill_owner=$(psql_as_postgres -c "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '$DRILL_DB'")
if [[ -z $drill_owner ]]; then
    (cd / && logged runuser -u postgres -- createdb -E UTF8 -T template0 -O "$DB_NAME" "$DRILL_DB")
    changed "データベース $DRILL_DB（復元訓練用。訓練のあとは空にします）"
elif [[ $drill_owner != "$DB_NAME" ]]; then
    psql_as_postgres -c "ALTER DATABASE \"$DRILL_DB\" OWNER TO \"$DB_NAME\"" >/dev/null
    changed "データベース $DRILL_DB の所有者 → $DB_NAME"
fi

# =============================================================================================
step "Redis"
debian_services redis-server
if [[ $(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null || true) == PONG ]]; then
    policy=$(redis-cli -h 127.0.0.1 -p 6379 config get maxmemory-policy 2>/dev/null | tail -n 1)
    [[ $policy == noeviction || $policy == volatile-ttl ]] ||
        warn "Redis の maxmemory-policy が $policy です。noeviction か volatile-ttl にしてください（docs/configuration.md）。"
else
    warn "Redis (127.0.0.1:6379) が応答しません。ポータルは動きますが、遅くなります（docs/operations.md「When Redis is down」）。"
fi

# =============================================================================================
step "環境ファイル"
new_secret() {  # PATH: a random secret, written once and never replaced
    if [[ ! -s $1 ]]; then
        (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(64))' >"$1")
        chown "root:$SYSTEM_USER" "$1"
        chmod 0640 "$1"
        changed "秘密の値 $1"
    else
        ensure_attrs "$1" 0640 root "$SYSTEM_USER"
    fi
}
new_secret "$CONF_DIR/secret_key"
new_secret "$CONF_DIR/credentials_key"
# The backup repository's key: root's only (systemd hands it to kokasen-backup*.service through
# LoadCredential=). Without it no backup can be read: keep a copy off this machine (docs/operations.md).
if [[ ! -s $BACKUP_KEY ]]; then
    (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(48))' >"$BACKUP_KEY")
    changed "バックアップの鍵 $BACKUP_KEY（サーバー外に写しを保管してください: docs/operations.md「バックアップ」）"
fi
ensure_attrs "$BACKUP_KEY" 0600 root root
if [[ -n $SMTP_PASSWORD_FILE && ! -s $CONF_DIR/smtp_password ]]; then
    install -m 0640 -o root -g "$SYSTEM_USER" "$SMTP_PASSWORD_FILE" "$CONF_DIR/smtp_password"
    changed "SMTP のパスワード $CONF_DIR/smtp_password"
fi
if [[ ! -f $ENV_FILE ]]; then
    {
        printf '# The server settings of kokasen, written by deploy/install.sh (docs/configuration.md).\n'
        printf '# Owner root, group %s, mode 0640. Edit here, then run deploy/install.sh again: it never\n' "$SYSTEM_USER"
        printf '# rewrites this file, it reads the networks below into nginx, nftables and fail2ban.\n\n'
        printf 'SECRET_KEY_FILE=%s\n' "$CONF_DIR/secret_key"
        printf 'CREDENTIALS_KEY_FILE=%s\n' "$CONF_DIR/credentials_key"
        printf 'ALLOWED_HOSTS=%s\n' "$DOMAIN"
        printf 'CSRF_TRUSTED_ORIGINS=https://%s\n' "$DOMAIN"
        printf 'PORTAL_BASE_URL=https://%s\n' "$DOMAIN"
        printf 'WAGTAILADMIN_BASE_URL=https://%s\n' "$DOMAIN"
        printf '# PostgreSQL through its socket; the OS user %s is the role (peer authentication, no password).\n' "$SYSTEM_USER"
        printf 'DATABASE_URL=postgres://%s@%%2Frun%%2Fpostgresql/%s\n' "$DB_NAME" "$DB_NAME"
        printf 'REDIS_URL=redis://127.0.0.1:6379/0\n'
        printf 'EMAIL_HOST=%s\n' "$SMTP_HOST"
        printf 'EMAIL_PORT=%s\n' "$SMTP_PORT"
        printf 'EMAIL_USE_TLS=true\n'
        if [[ -n $SMTP_USER ]]; then printf 'EMAIL_HOST_USER=%s\n' "$SMTP_USER"; fi
        if [[ -s $CONF_DIR/smtp_password ]]; then printf 'EMAIL_HOST_PASSWORD_FILE=%s\n' "$CONF_DIR/smtp_password"; fi
        printf 'DEFAULT_FROM_EMAIL="%s"\n' "$MAIL_FROM"
        printf 'STATIC_ROOT=%s\n' "$STATIC"
        printf 'MEDIA_ROOT=%s\n' "$MEDIA"
        printf 'PUBLISHED_PAGES_ROOT=%s\n' "$PUBLIC_PAGES"
        printf 'PROTECTED_FILES_X_ACCEL_PREFIX=/protected-media\n'
        printf 'HEALTH_ALLOWED_NETWORKS=%s\n' "$HEALTH_NETS"
        printf '# Alerts (ops_scan and monit) go to these addresses, also when the database is down.\n'
        printf 'OPS_ALERT_EMAILS=%s\n' "$ADMIN_EMAIL"
        printf '# Backups (restic; docs/operations.md "Backups"). The key is root'"'"'s; keep a copy off the machine.\n'
        printf 'BACKUP_REPOSITORY=%s\n' "$BACKUP_DIR/restic"
        printf 'BACKUP_PASSWORD_FILE=%s\n' "$BACKUP_KEY"
        printf 'BACKUP_WORK_DIR=%s\n' "$BACKUP_DIR/work"
        printf 'BACKUP_DRILL_DATABASE=%s\n' "$DRILL_DB"
        printf 'OPS_BACKUP_STATUS_FILE=%s\n' "$BACKUP_DIR/last-success.json"
        printf 'BACKUP_DRILL_STATUS_FILE=%s\n' "$BACKUP_DIR/last-drill.json"
        printf '\n# Read by deploy/install.sh only (docs/configuration.md, "Server settings read by the installer").\n'
        printf 'SSH_ALLOWED_NETWORKS=%s\n' "$SSH_NETS"
        printf 'ADMIN_ALLOWED_NETWORKS=%s\n' "$ADMIN_NETS"
        printf 'FAIL2BAN_IGNORE_NETWORKS=%s\n' "$F2B_IGNORE"
    } >"$WORK/kokasen.env"
    install -m 0640 -o root -g "$SYSTEM_USER" "$WORK/kokasen.env" "$ENV_FILE"
    changed "環境ファイル $ENV_FILE"
fi
ensure_attrs "$ENV_FILE" 0640 root "$SYSTEM_USER"
# The file as the running services last saw it: an edit by the operator restarts gunicorn below.
applied=$CONF_DIR/.kokasen.env.applied
if [[ $(cat "$applied" 2>/dev/null || true) != "$(sha256sum <"$ENV_FILE")" ]]; then
    (umask 077 && sha256sum <"$ENV_FILE" >"$applied")
    [[ -n ${TOUCHED[環境ファイル]:-} ]] || changed "環境ファイルの変更を反映（gunicorn を再起動）"
fi

# =============================================================================================
step "TLS 証明書"
ensure_dir "$CERT_DIR" 0755
cert_ok() {  # CERT KEY: the key belongs to the certificate, which names the domain and is valid
    [[ $(openssl x509 -in "$1" -noout -pubkey 2>/dev/null) == "$(openssl pkey -in "$2" -pubout 2>/dev/null)" ]] ||
        die "秘密鍵 $2 は証明書 $1 のものではありません。"
    openssl x509 -in "$1" -noout -checkhost "$DOMAIN" 2>/dev/null | grep -q 'does match' ||
        die "証明書 $1 は $DOMAIN のものではありません。"
    openssl x509 -in "$1" -noout -checkend 0 >/dev/null || die "証明書 $1 は有効期限が切れています。"
}
if [[ -n $TLS_CERT || -n $TLS_KEY ]]; then
    [[ -r $TLS_CERT && -r $TLS_KEY ]] || usage_error "--cert と --key には読めるファイルを指定してください。"
    cert_ok "$TLS_CERT" "$TLS_KEY"
    if [[ -n $TLS_CHAIN ]]; then
        cp "$TLS_CHAIN" "$WORK/chain.pem"
    else  # the certificates after the first one of the full chain
        awk '/-----BEGIN CERTIFICATE-----/ { n++ } n > 1' "$TLS_CERT" >"$WORK/chain.pem"
        if [[ ! -s $WORK/chain.pem ]]; then
            cp "$TLS_CERT" "$WORK/chain.pem"
            warn "証明書に中間証明書がありません: OCSP ステープリングは働きません（--chain で指定できます）。"
        fi
    fi
    put_file "$TLS_CERT" "$CERT_DIR/fullchain.pem" 0644
    put_file "$TLS_KEY" "$CERT_DIR/privkey.pem" 0600
    put_file "$WORK/chain.pem" "$CERT_DIR/chain.pem" 0644
elif [[ -f $CERT_DIR/fullchain.pem && -f $CERT_DIR/privkey.pem ]]; then
    cert_ok "$CERT_DIR/fullchain.pem" "$CERT_DIR/privkey.pem"
    ensure_attrs "$CERT_DIR/privkey.pem" 0600 root root
elif [[ -n $SELF_SIGNED ]]; then
    logged openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 -days 397 -nodes \
        -subj "/CN=$DOMAIN" -addext "subjectAltName=DNS:$DOMAIN" \
        -keyout "$WORK/privkey.pem" -out "$WORK/fullchain.pem"
    put_file "$WORK/privkey.pem" "$CERT_DIR/privkey.pem" 0600
    put_file "$WORK/fullchain.pem" "$CERT_DIR/fullchain.pem" 0644
    put_file "$WORK/fullchain.pem" "$CERT_DIR/chain.pem" 0644
    warn "自己署名の証明書です（試用のみ。ブラウザは警告を出します）。本番は --cert と --key で差し替えてください。"
else
    usage_error "証明書がありません: --cert と --key、または試用なら --self-signed を指定してください。"
fi
openssl x509 -in "$CERT_DIR/fullchain.pem" -noout -checkend $((30 * 86400)) >/dev/null ||
    warn "証明書の有効期限まで30日を切っています: $(openssl x509 -in "$CERT_DIR/fullchain.pem" -noout -enddate)"

# =============================================================================================
step "データベースと静的ファイル"
manage() {  # a management command as the service user, with the installed settings only
    (cd / && runuser -u "$SYSTEM_USER" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        HOME="$SRV" KOKASEN_ENV_FILE="$ENV_FILE" "$APP/deploy/bin/kokasen-manage" "$@")
}
manage install_state >"$WORK/state" 2>>"$INSTALL_LOG" || { tail -n 20 "$INSTALL_LOG" >&2; die "データベースに接続できません（$INSTALL_LOG）。"; }
if ! grep -qx 'migrations_pending=0' "$WORK/state"; then
    note "データベースを更新しています（migrate）…"
    logged manage migrate --no-input
    changed "データベース（migrate）"
    manage install_state >"$WORK/state" 2>>"$INSTALL_LOG"   # asked again after the migrations
fi
manage collectstatic --no-input >"$WORK/collectstatic" 2>>"$INSTALL_LOG" || { cat "$WORK/collectstatic" >&2; die "collectstatic が失敗しました。"; }
copied=$(grep -Eo '^[0-9]+ static files? copied' "$WORK/collectstatic" | cut -d' ' -f1 || true)
if ((${copied:-0})); then
    changed "静的ファイル $copied 件（collectstatic）"
fi
# Once per deploy (docs/operations.md, Scheduled jobs): when the code or the database changed.
if [[ -n ${TOUCHED[アプリケーション]:-}${TOUCHED[データベースと静的ファイル]:-} ]]; then
    manage setup_members_area >"$WORK/members" 2>>"$INSTALL_LOG" || { cat "$WORK/members" >&2; die "setup_members_area が失敗しました。"; }
    if grep -q '件' "$WORK/members"; then
        changed "会員エリアの閲覧制限: $(tr '\n' ' ' <"$WORK/members")"
    fi
    # The public pages nginx sends anonymous visitors, written again with the new code and
    # templates; files of pages no longer public are removed (decision 0061).
    manage write_published_pages >"$WORK/published" 2>>"$INSTALL_LOG" || { cat "$WORK/published" >&2; die "write_published_pages が失敗しました。"; }
    changed "$(cat "$WORK/published")"
fi
for page in "$SOURCE_DIR"/deploy/nginx/errors/*.html; do
    put_file "$page" "$ERRORS/$(basename "$page")" 0644
done
if ! manage check --deploy --fail-level WARNING >"$WORK/check" 2>&1; then
    cat "$WORK/check" >&2
    die "Django の本番チェック（check --deploy）に警告があります。"
fi
note "Django の本番チェック（check --deploy）: 警告なし"

# =============================================================================================
step "最初の管理者"
if ! grep -qx 'superuser=yes' "$WORK/state"; then
    [[ -n $ADMIN_EMAIL ]] || usage_error "管理者がまだいません: --admin-email を指定してください。"
    manage create_first_admin --username "$ADMIN_USER" --email "$ADMIN_EMAIL" >"$WORK/admin" 2>>"$INSTALL_LOG" ||
        die "最初の管理者を作れませんでした（$INSTALL_LOG）。"
    admin_value() { sed -n "s/^$1=//p" "$WORK/admin"; }
    {
        printf 'kokasen の最初の管理者（deploy/install.sh が作成。root だけが読めます）\n\n'
        printf 'ユーザーID: %s\n初期パスワード: %s\nメールアドレス: %s\n\n' "$(admin_value username)" "$(admin_value password)" "$ADMIN_EMAIL"
        printf '認証アプリ登録の招待URL（%s まで、一度だけ使えます）:\n%s\n\n' "$(admin_value expires)" "$(admin_value link)"
        printf '1. 招待URLをブラウザで開く\n2. 上のユーザーIDと初期パスワードでログインする\n'
        printf '3. 表示されたQRコードをスマートフォンの認証アプリで読み取り、確認コードを入れる\n'
        printf '4. /account/ でパスワードを変更し、このファイルを削除する（shred -u %s）\n' "$CONF_DIR/first-admin.txt"
        printf '期限が切れたら: kokasen-manage invite_staff_enrolment %s --print\n' "$(admin_value username)"
    } >"$WORK/first-admin.txt"
    put_file "$WORK/first-admin.txt" "$CONF_DIR/first-admin.txt" 0600
    changed "管理者 $(admin_value username)（初期パスワードと招待URL: $CONF_DIR/first-admin.txt）"
fi

# =============================================================================================
step "ClamAV"
put_file "$SOURCE_DIR/deploy/clamav/clamd.conf" "$ETC/clamav/clamd.conf" 0644
debian_services clamav-freshclam
if [[ $REAL == 1 ]]; then
    unit_enable clamav-daemon
    # Debian's unit does not start without signatures (a condition, not an error): start it only
    # when they are there; kokasen-clamd.path starts it once freshclam has fetched them.
    if compgen -G "/var/lib/clamav/main.c[vl]d" >/dev/null && compgen -G "/var/lib/clamav/daily.c[vl]d" >/dev/null; then
        unit_start clamav-daemon
    elif [[ $ONLINE == 1 ]]; then
        note "ウイルス定義を取得中です（freshclam）。取得後に kokasen-clamd.path が clamd を起動します。"
    fi
fi
unit_reload_if ClamAV clamav-daemon restart

# =============================================================================================
step "nginx"
resolvers=$(awk '$1 == "nameserver" { print ($2 ~ /:/ ? "[" $2 "]" : $2) }' /etc/resolv.conf 2>/dev/null | paste -sd' ' -)
resolvers=${resolvers:-127.0.0.1}
render "$SOURCE_DIR/deploy/nginx/portal.conf" |
    sed -e "s/server_name portal\.example\.go\.jp;/server_name $DOMAIN;/" \
        -e "s/^\(    resolver \)127\.0\.0\.1 /\1$resolvers /" >"$WORK/portal.conf"
grep -q "server_name $DOMAIN;" "$WORK/portal.conf" || die "portal.conf の server_name を書き換えられませんでした。"
put_file "$WORK/portal.conf" "$NGINX/sites-available/kokasen-portal"
put_rendered "$SOURCE_DIR/deploy/nginx/catch-all.conf" "$NGINX/sites-available/kokasen-catch-all"
put_rendered "$SOURCE_DIR/deploy/nginx/kokasen-http.conf" "$NGINX/conf.d/kokasen.conf"
put_rendered "$SOURCE_DIR/deploy/nginx/static-export.conf" "$NGINX/kokasen/static-export.conf"
{
    printf '# Written by deploy/install.sh from ADMIN_ALLOWED_NETWORKS in %s (deploy/nginx/admin-networks.conf).\n' "$ENV_FILE"
    if [[ -z $ADMIN_NETS ]]; then
        printf 'default 0;\n'
    else
        printf 'default 1;\n'
        tr ',' '\n' <<<"$ADMIN_NETS" | sed 's/$/ 0;/'
    fi
} >"$WORK/admin-networks.conf"
put_file "$WORK/admin-networks.conf" "$NGINX/kokasen/admin-networks.conf"
{
    cat "$SOURCE_DIR/deploy/nginx/health-networks.conf"
    printf '# Written by deploy/install.sh from HEALTH_ALLOWED_NETWORKS in %s.\n' "$ENV_FILE"
    if [[ -n $HEALTH_NETS ]]; then tr ',' '\n' <<<"$HEALTH_NETS" | sed 's/$/ 0;/'; fi
} >"$WORK/health-networks.conf"
put_file "$WORK/health-networks.conf" "$NGINX/kokasen/health-networks.conf"
ensure_link "$NGINX/sites-available/kokasen-portal" "$NGINX/sites-enabled/kokasen-portal"
ensure_link "$NGINX/sites-available/kokasen-catch-all" "$NGINX/sites-enabled/kokasen-catch-all"
remove_path "$NGINX/sites-enabled/default"   # two default_server on one port stop nginx
for log in access.log access.json refused.log error.log; do
    if [[ ! -e $NGINX_LOGS/$log ]]; then
        install -m 0640 -o www-data -g adm /dev/null "$NGINX_LOGS/$log"
        changed "ログ $NGINX_LOGS/$log"
    fi
done
[[ -f $NGINX/nginx.conf ]] || die "$NGINX/nginx.conf がありません（Debian の nginx パッケージの設定）。"
if ! nginx -t -q -c "$NGINX/nginx.conf" >"$WORK/nginx-t" 2>&1; then
    cat "$WORK/nginx-t" >&2
    die "nginx の設定に誤りがあります（nginx -t）。"
fi
debian_services nginx
[[ -n ${TOUCHED["TLS 証明書"]:-} ]] && TOUCHED[nginx]=1
unit_reload_if nginx nginx reload

# =============================================================================================
step "nftables"
{
    render "$SOURCE_DIR/deploy/nftables/kokasen.nft" | awk -v v4="$SSH_V4" -v v6="$SSH_V6" '
        /set ssh_networks_v4/ { set = "v4" } /set ssh_networks_v6/ { set = "v6" }
        /elements = / && set != "" {
            list = (set == "v4" ? v4 : v6); set = ""
            if (list == "") next
            gsub(",", ", ", list); sub(/\{.*\}/, "{ " list " }")
        }
        { print }'
} >"$WORK/nftables.conf"
grep -q "@ssh_networks_v4" "$WORK/nftables.conf" || die "nftables の設定を作れませんでした。"
if ! nft -c -f "$WORK/nftables.conf" >"$WORK/nft-c" 2>&1; then
    cat "$WORK/nft-c" >&2
    die "nftables の設定に誤りがあります（nft -c）。"
fi
if [[ $ONLINE == 1 ]]; then
    # Refuse to cut off the SSH sessions of now: their addresses must be in SSH_ALLOWED_NETWORKS.
    mapfile -t peers < <(ss -Htn state established '( sport = :22 )' 2>/dev/null | awk '{ print $4 }' |
        sed -E 's/:[0-9]+$//; s/^\[//; s/\]$//; s/^::ffff://' | sort -u)
    if ((${#peers[@]})); then
        outside=$(python3 - "$SSH_NETS" "${peers[@]}" <<'PY'
import ipaddress, sys
nets = [ipaddress.ip_network(n) for n in sys.argv[1].split(",") if n]
for peer in sys.argv[2:]:
    address = ipaddress.ip_address(peer)
    if not any(address in net for net in nets if net.version == address.version):
        print(peer)
PY
)
        [[ -z $outside ]] || die "いま SSH で接続している $(echo "$outside" | paste -sd' ' -) が SSH_ALLOWED_NETWORKS（$SSH_NETS）に入っていません。このまま適用すると次から接続できなくなります。"
    fi
fi
put_file "$WORK/nftables.conf" "$ETC/nftables.conf" 0755
debian_services nftables
# nftables.service's ExecStop flushes every table (fail2ban's too): reload, never restart.
unit_reload_if nftables nftables reload

# =============================================================================================
step "fail2ban"
for filter in "$SOURCE_DIR"/deploy/fail2ban/filter.d/*.conf; do
    put_file "$filter" "$ETC/fail2ban/filter.d/$(basename "$filter")"
done
put_rendered "$SOURCE_DIR/deploy/fail2ban/jail.d/kokasen.conf" "$ETC/fail2ban/jail.d/kokasen.conf"
{
    printf '# Written by deploy/install.sh from FAIL2BAN_IGNORE_NETWORKS in %s: never banned.\n' "$ENV_FILE"
    for jail in kokasen-scan kokasen-refused; do
        printf '[%s]\nignoreip = 127.0.0.1/8 ::1%s\n' "$jail" "${F2B_IGNORE:+ ${F2B_IGNORE//,/ }}"
    done
} >"$WORK/kokasen-ignore.local"
put_file "$WORK/kokasen-ignore.local" "$ETC/fail2ban/jail.d/kokasen-ignore.local"
# Debian 12 logs SSH to the journal only (no /var/log/auth.log), so the sshd jail that Debian
# enables stops fail2ban from starting unless it reads the journal.
printf '# Written by deploy/install.sh: Debian 12 has no /var/log/auth.log; read sshd from the journal.\n[sshd]\nbackend = systemd\n' >"$WORK/sshd.local"
put_file "$WORK/sshd.local" "$ETC/fail2ban/jail.d/kokasen-sshd.local"
if ! LANG=C.UTF-8 fail2ban-client -c "$ETC/fail2ban" -t >"$WORK/f2b-t" 2>&1; then
    cat "$WORK/f2b-t" >&2
    die "fail2ban の設定に誤りがあります（fail2ban-client -t）。"
fi
debian_services fail2ban
unit_reload_if fail2ban fail2ban reload

# =============================================================================================
step "logrotate"
put_rendered "$SOURCE_DIR/deploy/logrotate/kokasen" "$ETC/logrotate.d/kokasen"
put_file "$SOURCE_DIR/deploy/logrotate/logrotate.timer.d/kokasen-hourly.conf" "$UNIT_DIR/logrotate.timer.d/kokasen-hourly.conf"
logged logrotate -d -s "$WORK/logrotate.state" "$ETC/logrotate.d/kokasen"
if [[ $ONLINE == 1 && -n ${TOUCHED[logrotate]:-} ]]; then
    logged systemctl daemon-reload
    logged systemctl restart logrotate.timer
fi

# =============================================================================================
step "systemd"
units=()
for unit in "$SOURCE_DIR"/deploy/systemd/kokasen-*; do
    name=$(basename "$unit")
    units+=("$name")
    render "$unit" | sed -e "s/^User=kokasen$/User=$SYSTEM_USER/" -e "s/^Group=kokasen$/Group=$SYSTEM_USER/" >"$WORK/$name"
    put_file "$WORK/$name" "$UNIT_DIR/$name"
done
for installed in "$UNIT_DIR"/kokasen-*.service "$UNIT_DIR"/kokasen-*.timer "$UNIT_DIR"/kokasen-*.path; do
    name=$(basename "$installed")
    if [[ ! -e $SOURCE_DIR/deploy/systemd/$name ]]; then  # a unit deploy/systemd no longer has
        logged "${SYSTEMCTL[@]}" disable "$name"
        remove_path "$installed"
    fi
done
(cd "$UNIT_DIR" && systemd-analyze verify --man=no "${units[@]}") >"$WORK/verify" 2>&1 || true
if grep -q 'kokasen' "$WORK/verify"; then
    cat "$WORK/verify" >&2
    die "systemd のユニットに誤りがあります（systemd-analyze verify）。"
fi
if [[ $ONLINE == 1 && -n ${TOUCHED[systemd]:-} ]]; then
    logged systemctl daemon-reload
fi
enable=()
for name in "${units[@]}"; do
    [[ $name == *.timer || $name == *.path || $name == kokasen-web.service ]] && enable+=("$name")
done
unit_enable "${enable[@]}"
app_changed=""
for area in アプリケーション 環境ファイル "データベースと静的ファイル"; do
    [[ -n ${TOUCHED[$area]:-} ]] && app_changed=1
done
if [[ $ONLINE == 1 && -n $app_changed ]] && systemctl is-active --quiet kokasen-web.service; then
    logged systemctl restart kokasen-web.service
    note "kokasen-web: restart"
fi
unit_start "${enable[@]}"
# /readyz names "backup" until the first good backup: take it now instead of at 02:30.
if [[ $ONLINE == 1 && ! -e $BACKUP_DIR/last-success.json ]]; then
    logged systemctl start --no-block kokasen-backup.service
    note "最初のバックアップを開始しました（systemctl status kokasen-backup）。"
fi

# =============================================================================================
step "monit"
# The service monitor (deploy/monit/kokasen): mails straight through the SMTP relay.
alert_emails=$(env_value OPS_ALERT_EMAILS)
[[ -n $alert_emails ]] || alert_emails=$ADMIN_EMAIL
# monit 5.33 sends over implicit TLS (SMTPS, "using ssl") or in plain text; it has no STARTTLS for
# its mail (tested: it never sends the command). So it uses the relay's SMTPS port, 465 unless
# MONIT_SMTP_PORT says otherwise; MONIT_SMTP_SSL=false for a relay inside a closed network.
monit_port=$(env_value MONIT_SMTP_PORT)
monit_port=${monit_port:-465}
[[ $monit_port =~ ^[0-9]+$ ]] || die "MONIT_SMTP_PORT は数字です: $monit_port"
mailserver="$SMTP_HOST port $monit_port"
if [[ -n $SMTP_USER ]]; then
    smtp_password=$(cat "$CONF_DIR/smtp_password" 2>/dev/null || true)
    [[ $SMTP_USER$smtp_password != *'"'* ]] || die "SMTP のユーザー名かパスワードに \" が含まれていて、monit の設定に書けません。"
    mailserver+=" username \"$SMTP_USER\" password \"$smtp_password\""
fi
case $(env_value MONIT_SMTP_SSL) in 0 | false | no | off | False) ;; *) mailserver+=" using ssl" ;; esac
mail_from=$(env_value DEFAULT_FROM_EMAIL)
mail_from=${mail_from##*<}
mail_from=${mail_from%>}
{
    render "$SOURCE_DIR/deploy/monit/kokasen" | while IFS= read -r line; do
        case $line in
            @ALERTS@)
                if [[ -z $alert_emails ]]; then
                    printf '# No OPS_ALERT_EMAILS in %s: monit logs its alerts only.\n' "$ENV_FILE"
                else
                    tr ',' '\n' <<<"$alert_emails" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' -e 's/^/set alert /'
                fi
                ;;
            *)
                line=${line//@MAILSERVER@/$mailserver}
                line=${line//@MAIL_FROM@/${mail_from:-noreply@$DOMAIN}}
                printf '%s\n' "${line//@DOMAIN@/$DOMAIN}"
                ;;
        esac
    done
} >"$WORK/monit-kokasen"
printf 'set idfile %s\nset statefile %s\ninclude %s\n' "$WORK/monit.id" "$WORK/monit.state" "$WORK/monit-kokasen" >"$WORK/monitrc"
chmod 0600 "$WORK/monit-kokasen" "$WORK/monitrc"
# monit -t prints some errors (an invalid "allow") and still exits 0: only its one OK line passes.
monit -t -c "$WORK/monitrc" >"$WORK/monit-t" 2>&1 || true
if [[ $(grep -Ev "^ ?(New Monit id: [0-9a-f]+|Stored in '.*')$" "$WORK/monit-t") != "Control file syntax OK" ]]; then
    cat "$WORK/monit-t" >&2
    die "monit の設定に誤りがあります（monit -t）。"
fi
[[ -n $alert_emails ]] || warn "OPS_ALERT_EMAILS が空です: monit の警報メールの宛先がありません（$ENV_FILE に書いて再実行してください）。"
put_file "$WORK/monit-kokasen" "$ETC/monit/conf.d/kokasen" 0600
debian_services monit
unit_reload_if monit monit reload

# =============================================================================================
STEP="結果"
printf '\n'
if ((CHANGES == 0)); then
    printf '変更なし（すべて導入済みです）\n'
else
    printf '変更 %d 件。\n' "$CHANGES"
    if [[ -f $CONF_DIR/first-admin.txt && -n ${TOUCHED[最初の管理者]:-} ]]; then
        printf '最初の管理者のログイン方法: %s（root だけが読めます）\n' "$CONF_DIR/first-admin.txt"
    fi
    [[ $ONLINE == 1 ]] && printf '確認: curl -s -H "Host: %s" http://127.0.0.1:8001/readyz\n' "$DOMAIN"
fi
printf 'changes=%d\n' "$CHANGES"
