package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// The scripts ask bpfkit itself for the words that can follow, through
// urfave/cli's hidden --generate-bash-completion flag.
const bashCompletion = `# bpfkit bash completion: source <(bpfkit completion bash)
_bpfkit() {
	local cur words
	cur="${COMP_WORDS[COMP_CWORD]}"
	words=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:$COMP_CWORD-1}" --generate-bash-completion 2>/dev/null)
	COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _bpfkit bpfkit
`

const zshCompletion = `#compdef bpfkit
# bpfkit zsh completion: source <(bpfkit completion zsh)
_bpfkit() {
	local -a opts
	opts=("${(@f)$(${words[1]} ${words[@]:1:$CURRENT-2} --generate-bash-completion 2>/dev/null)}")
	_describe 'values' opts
}
compdef _bpfkit bpfkit
`

func completionCommand() *cli.Command {
	script := func(text string) cli.ActionFunc {
		return func(c *cli.Context) error {
			_, err := fmt.Fprint(c.App.Writer, text)
			return err
		}
	}
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script",
		ArgsUsage: "{ bash | zsh }",
		Subcommands: []*cli.Command{
			{Name: "bash", Usage: "bash completion: source <(bpfkit completion bash)", Action: script(bashCompletion)},
			{Name: "zsh", Usage: "zsh completion: source <(bpfkit completion zsh)", Action: script(zshCompletion)},
		},
	}
}
