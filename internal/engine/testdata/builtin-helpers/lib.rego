package teamslink.lib

# Breaks the contract without a single rule of its own: it adds to the
# built-in helpers every policy imports.
mine := true
