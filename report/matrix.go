package report

import (
	"io"

	"github.com/teamslink/teamslink/internal/termtext"
)

// newMatrixWriter renders only the readiness matrix and the summary: the
// table format without each environment's findings, for a fleet at a glance.
func newMatrixWriter(w io.Writer, opts Options) Writer {
	return &tableWriter{w: w, pal: termtext.Palette{On: opts.Color}, clock: opts.Now, matrixOnly: true}
}
