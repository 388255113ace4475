#!/bin/sh
# What an operator types today, from the guides' "Quick Diagnostic Commands" (EVO shared
# memory, LavinMQ) for the host side that `evodiag check` covers. Output is discarded:
# this measures only the cost of getting the raw data, not reading it.
{
        ipcs -m; ipcs -mp; ipcs -lm; ipcs -u
        ls -la /dev/shm/
        mount | grep shm
        uname -a | grep PREEMPT
        cat /sys/kernel/realtime
        cat /proc/cmdline | grep isolcpus
        cat /sys/devices/system/cpu/isolated /sys/devices/system/cpu/nohz_full
        cat /proc/meminfo | grep -i huge
        cat /sys/kernel/mm/hugepages/hugepages-*/nr_hugepages
        cat /sys/kernel/mm/transparent_hugepage/enabled
        ps aux | grep evo
        ps -eo pid,cls,pri,ni,comm | grep evo
        ps -eLo pid,cls,rtprio,comm | awk '$2 == "FF" || $2 == "RR"'
        sysctl kernel.sched_rt_runtime_us kernel.sched_rt_period_us
        cat /proc/interrupts
        pgrep -a irqbalance
        lsof 2>/dev/null | grep /dev/shm
        cat /proc/sys/fs/file-nr /proc/sys/fs/nr_open
        for p in /proc/[0-9]*; do ls "$p/fd" 2>/dev/null | wc -l; done
        cat /proc/sys/vm/max_map_count
        for p in /proc/[0-9]*; do wc -l <"$p/maps" 2>/dev/null; done
        free -h
        cat /proc/meminfo | grep -E "(MemAvailable|MemFree)"
        cat /proc/buddyinfo
        cat /proc/sys/kernel/shmmax /proc/sys/kernel/shmall
} >/dev/null 2>&1
