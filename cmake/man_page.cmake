# Run at build time (cmake -P): writes OUTPUT, the man page of the tool TOOL (its file) named
# NAME, from the tool's own --help (and `NAME SUB --help` for each of SUBCOMMANDS, a
# ;-list), so the page cannot drift from the tool. VERSION goes into the footer.
execute_process(COMMAND "${TOOL}" --help OUTPUT_VARIABLE help RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "${TOOL} --help failed (${failed})")
endif()
foreach(sub IN LISTS SUBCOMMANDS)
  execute_process(COMMAND "${TOOL}" ${sub} --help OUTPUT_VARIABLE sub_help RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "${TOOL} ${sub} --help failed (${failed})")
  endif()
  string(APPEND subcommands ".SS ${NAME} ${sub}\n.nf\n${sub_help}.fi\n")
endforeach()

# roff: a backslash is \e, and a line starting with . or ' would be a request.
function(roff_escape text result)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${result} "${text}" PARENT_SCOPE)
endfunction()

string(REGEX MATCH "^[^\n]*" summary "${help}")
string(REGEX REPLACE "\\.$" "" summary "${summary}")
roff_escape("${summary}" summary)
roff_escape("${help}" help)
string(TOUPPER "${NAME}" title)
set(page ".TH ${title} 1 \"\" \"perceiver ${VERSION}\" \"User Commands\"\n")
string(APPEND page ".SH NAME\n${NAME} \\- ${summary}\n")
string(APPEND page ".SH DESCRIPTION\nThe text below is what \\fB${NAME} --help\\fR prints.\n.PP\n.nf\n${help}.fi\n")
if(subcommands)
  roff_escape("${subcommands}" escaped)
  # The .SS/.nf/.fi requests themselves were escaped too: restore them.
  string(REPLACE "\\&.SS" ".SS" escaped "${escaped}")
  string(REPLACE "\\&.nf" ".nf" escaped "${escaped}")
  string(REPLACE "\\&.fi" ".fi" escaped "${escaped}")
  string(APPEND page ".SH SUBCOMMANDS\n${escaped}")
endif()
string(APPEND page ".SH EXIT STATUS\n0 success; 1 internal error; 2 usage; 3 model missing; 4 model format; 5 model mismatch; "
                   "6 config; 7 input; 8 output; 9 limit; 10 some inputs of a batch failed; 11 interrupted.\n")
string(APPEND page ".SH SEE ALSO\nThe README and docs/ of the source tree; \\fBperceiver-mlm\\fR(1), \\fBperceiver-classify\\fR(1), "
                   "\\fBperceiver-flow\\fR(1), \\fBperceiver-autoencode\\fR(1), \\fBperceiver-run\\fR(1), "
                   "\\fBperceiver-convert\\fR(1), \\fBperceiver-train\\fR(1).\n")
file(WRITE "${OUTPUT}" "${page}")
