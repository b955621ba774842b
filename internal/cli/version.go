package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

func newVersionCommand(deps Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of teamslink",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "teamslink %s (%s, %s/%s)\n", deps.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
