# fish completion for evodiag. Everything offered comes from the binary itself (evodiag
# __complete: the option tables, the collector registry, the check IDs it declares), so it
# cannot go stale: verbs, every verb's options, collector names for --only/--skip (comma
# lists), check IDs for --id and explain, --format/--color/--component/--bundle-on values,
# bundles (*.tar.zst, *.tar.gz) for check --from, recordings (*.rec) for watch --replay.

# The verb on the command line so far (the first word after evodiag), or nothing.
function __evodiag_verb
    set -l t (commandline -opc)
    set -q t[2]; and echo $t[2]
end

function __evodiag_no_verb
    set -l t (commandline -opc)
    not set -q t[2]
end

function __evodiag_is_verb -a verb
    test "$(__evodiag_verb)" = $verb
end

# Files ending in one of the suffixes given, and directories to go into.
function __evodiag_files
    set -l tok (commandline -ct)
    for f in (complete -C "__fish_command_without_completions $tok")
        set -l path (string replace -r '\t.*' '' -- $f)
        if string match -q -- '*/' $path
            echo $path
            continue
        end
        for s in $argv
            if string match -q -- "*$s" $path
                echo $path
                break
            end
        end
    end
end

complete -c evodiag -f
complete -c evodiag -n __evodiag_no_verb -a '(evodiag __complete verbs)'
complete -c evodiag -n __evodiag_no_verb -l help -d 'list the commands'
complete -c evodiag -n __evodiag_no_verb -l version -d 'print the version'
complete -c evodiag -n '__evodiag_is_verb help' -a '(evodiag __complete verbs)'
complete -c evodiag -n '__evodiag_is_verb explain' -a '(evodiag __complete ids)'

# Every verb's options, from its option table.
for verb in (evodiag __complete verbs 2>/dev/null | string replace -r '\t.*' '')
    for line in (evodiag __complete options $verb 2>/dev/null)
        set -l f (string split \t -- $line)
        set -l name $f[1]
        set -l kind $f[2]
        set -l form -l (string replace -r '^--' '' -- $name)
        string match -q -- '--*' $name; or set form -s (string replace -r '^-' '' -- $name)
        set -l cond "__evodiag_is_verb $verb"
        switch $kind
            case flag
                complete -c evodiag -n $cond $form -d $f[3]
            case values
                complete -c evodiag -n $cond $form -d $f[3] -x -a "(evodiag __complete values $verb $name)"
            case collectors
                complete -c evodiag -n $cond $form -d $f[3] -x -a "(__fish_complete_list , 'evodiag __complete collectors')"
            case ids
                complete -c evodiag -n $cond $form -d $f[3] -x -a "(evodiag __complete ids)"
            case idlist
                complete -c evodiag -n $cond $form -d $f[3] -x -a "(__fish_complete_list , 'evodiag __complete ids; evodiag __complete collectors')"
            case dir
                complete -c evodiag -n $cond $form -d $f[3] -x -a "(__fish_complete_directories)"
            case bundle
                complete -c evodiag -n $cond $form -d $f[3] -x -a "(__evodiag_files .tar.zst .tar.gz)"
            case recording
                complete -c evodiag -n $cond $form -d $f[3] -x -a "(__evodiag_files .rec .rec.1)"
            case journal
                complete -c evodiag -n $cond $form -d $f[3] -x -a "(__evodiag_files .journal .journal~)"
            case file
                complete -c evodiag -n $cond $form -d $f[3] -r -F
            case '*'
                complete -c evodiag -n $cond $form -d $f[3] -x
        end
    end
end
