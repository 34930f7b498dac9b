# Bash completion for the perceiver tools (installed as share/bash-completion/completions/<tool>):
# options and subcommands come from the tool's own --help at the moment of completion, so they
# cannot drift; everything else completes as file names.
_perceiver_tool() {
  local cur=${COMP_WORDS[COMP_CWORD]} tool=${COMP_WORDS[0]} help
  local words=("$tool")
  # perceiver-train SUB: the subcommand's own options.
  if [[ ${COMP_CWORD} -gt 1 && ${COMP_WORDS[1]} != -* ]]; then words+=("${COMP_WORDS[1]}"); fi
  help=$("${words[@]}" --help 2>/dev/null) || help=""
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(grep -oE -- '(^|[ ,])--?[A-Za-z][-A-Za-z0-9]*' <<<"$help" | tr -d ' ,' | sort -u)" -- "$cur"))
  elif [[ ${COMP_CWORD} -eq 1 ]] && grep -q '^Subcommands:' <<<"$help"; then
    COMPREPLY=($(compgen -W "$(sed -n '/^Subcommands:/,$ s/^  \([a-z][-a-z]*\) .*/\1/p' <<<"$help")" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _perceiver_tool perceiver-mlm perceiver-classify perceiver-flow perceiver-autoencode \
  perceiver-run perceiver-convert perceiver-train
