#!/bin/sh
# install-glance lab, trusty shape: invoke-rc.d as Ubuntu 14.04's, which hands a service that has an upstart
# job (/etc/init/NAME.conf) to upstart once policy-rc.d allows the action: a package that installs the job
# starts it the upstart way. Anything else goes to Debian's own invoke-rc.d, kept in /usr/lib/trusty-shape.
name= action=
for a in "$@"; do
  case "$a" in
    --*) ;;
    *) if [ -z "$name" ]; then name=$a; elif [ -z "$action" ]; then action=$a; fi ;;
  esac
done
if [ -n "$name" ] && [ -r "/etc/init/$name.conf" ] && command -v initctl >/dev/null \
   && initctl version 2>/dev/null | grep -q upstart; then
  case "$action" in
    start|stop|restart|force-reload|reload|status)
      if [ -x /usr/sbin/policy-rc.d ]; then
        /usr/sbin/policy-rc.d "$name" "$action"
        if [ $? -eq 101 ]; then
          echo "invoke-rc.d: policy-rc.d denied execution of $action." >&2
          exit 0
        fi
      fi
      running() { status "$name" 2>/dev/null | grep -q ' start/'; }
      case "$action" in
        start) running || start "$name" ;;
        stop) ! running || stop "$name" ;;
        restart|force-reload) { ! running || stop "$name"; } && start "$name" ;;
        reload) ! running || reload "$name" ;;
        status) status "$name" ;;
      esac
      exit $? ;;
  esac
fi
exec /usr/lib/trusty-shape/invoke-rc.d.debian "$@"
