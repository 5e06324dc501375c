# /etc/profile.d/bustle.sh — bustle's "while you were away" at login.
# Shown only to users who asked for it with `bustle digest --on` (which creates
# ~/.config/bustle/digest-at-login; `bustle digest --off` removes it), only in interactive
# shells (never for scp, rsync or cron), and never fails a login.
case $- in
  *i*)
    if [ -f "${XDG_CONFIG_HOME:-$HOME/.config}/bustle/digest-at-login" ] && command -v bustle >/dev/null 2>&1; then
      bustle digest 2>/dev/null || :
    fi
    ;;
esac
