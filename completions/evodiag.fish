# fish completion for evodiag: verbs, options, collectors and check IDs (from `evodiag list`).
function __evodiag_collectors
    evodiag list 2>/dev/null | awk 'NR > 1 && $1 != "checks:" && $1 !~ /^\[/ { print $1 }'
end
function __evodiag_ids
    evodiag list 2>/dev/null | sed -n 's/^ *checks: //p' | tr ' ' '\n'
end
set -l verbs check list explain version
complete -c evodiag -f
complete -c evodiag -n "not __fish_seen_subcommand_from $verbs" -a check -d 'run every relevant check'
complete -c evodiag -n "not __fish_seen_subcommand_from $verbs" -a list -d 'list collectors and check IDs'
complete -c evodiag -n "not __fish_seen_subcommand_from $verbs" -a explain -d 'explain a check ID'
complete -c evodiag -n "not __fish_seen_subcommand_from $verbs" -a version -d 'print the version'
complete -c evodiag -n "__fish_seen_subcommand_from check" -l only -x -a '(__evodiag_collectors)' -d 'run only these collectors'
complete -c evodiag -n "__fish_seen_subcommand_from check" -l skip -x -a '(__evodiag_collectors)' -d 'skip these collectors'
complete -c evodiag -n "__fish_seen_subcommand_from check list" -l root -r -a '(__fish_complete_directories)' -d 'system files under DIR'
complete -c evodiag -n "__fish_seen_subcommand_from check" -l format -x -a 'text json nagios prometheus' -d 'output format'
complete -c evodiag -n "__fish_seen_subcommand_from check list explain" -l json -d 'JSON output'
complete -c evodiag -n "__fish_seen_subcommand_from check" -s q -l problems -d 'only the problems and the summary'
complete -c evodiag -n "__fish_seen_subcommand_from check" -l id -x -a '(__evodiag_ids)' -d 'judge only this check'
complete -c evodiag -n "__fish_seen_subcommand_from check" -l textfile -r -a '(__fish_complete_directories)' -d 'write DIR/evodiag.prom for node_exporter'
complete -c evodiag -n "__fish_seen_subcommand_from check" -l timeout -x -d 'deadline for the whole run'
complete -c evodiag -n "__fish_seen_subcommand_from check" -l collector-timeout -x -d 'deadline for each collector'
complete -c evodiag -n "__fish_seen_subcommand_from check list" -l config -r -F -d 'config file'
complete -c evodiag -n "__fish_seen_subcommand_from check" -l color -x -a 'auto always never' -d 'colour'
complete -c evodiag -n "__fish_seen_subcommand_from check" -l allow-intrusive -d 'also run intrusive checks'
complete -c evodiag -n "__fish_seen_subcommand_from check list" -s v -l verbose -d 'more detail'
complete -c evodiag -n "__fish_seen_subcommand_from explain" -a '(__evodiag_ids)'
