// Package termtext makes report text fit for a terminal: safe (no control
// characters), wrapped, in tables, coloured only when asked. The table
// report and the report diff share it.
package termtext

import (
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Clean makes text from a snapshot, a report or a policy safe for a
// terminal: control characters (an ESC could restyle or rewrite the screen)
// and bidirectional overrides become U+FFFD, tabs become spaces; newlines
// stay.
func Clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\t':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			return utf8.RuneError
		}
		return r
	}, s)
}

// Lines joins the non-empty strings, cleaned, with newlines: a multi-line
// table cell.
func Lines(ss ...string) string {
	out := ss[:0:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, Clean(s))
		}
	}
	return strings.Join(out, "\n")
}

// Prose joins the hard-wrapped lines of a METADATA text block (remediation,
// fix description) into paragraphs, so Wrap can fill them; a blank line
// still separates two paragraphs.
func Prose(text string) string {
	paras := strings.Split(strings.ReplaceAll(Clean(text), "\r", ""), "\n\n")
	for i, p := range paras {
		paras[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.Join(slices.DeleteFunc(paras, func(p string) bool { return p == "" }), "\n")
}

// Wrap breaks text into lines of at most width visible runes (a longer
// word keeps its own line). A line's leading spaces are kept, and its
// continuation lines are indented two more. A leading label ("docs:") or
// bullet ("-") stays with the word after it.
func Wrap(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		body := strings.TrimLeft(para, " ")
		indent := para[:len(para)-len(body)]
		words := strings.Fields(body)
		if len(words) == 0 {
			continue
		}
		line := indent + words[0]
		rest := words[1:]
		if len(rest) > 0 && isLead(words[0]) {
			line += " " + rest[0]
			rest = rest[1:]
		}
		for _, word := range rest {
			if VisibleLen(line)+1+VisibleLen(word) > width {
				out = append(out, line)
				line = indent + "  " + word
				continue
			}
			line += " " + word
		}
		out = append(out, line)
	}
	return out
}

// isLead reports whether word introduces the next one: a bullet or a label.
func isLead(word string) bool {
	plain := StripSGR(word)
	return plain == "-" || strings.HasSuffix(plain, ":")
}

// StripSGR removes ANSI SGR escapes from s.
func StripSGR(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\x1b' {
			if j := strings.IndexByte(s[i:], 'm'); j >= 0 {
				i += j
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// VisibleLen counts the runes of s that are not part of an ANSI escape.
func VisibleLen(s string) int { return utf8.RuneCountInString(StripSGR(s)) }

// NewTable returns a table with the settings every teamslink table shares:
// cells as given (no trimming, no automatic wrapping; callers wrap).
func NewTable(w io.Writer, opts ...tablewriter.Option) *tablewriter.Table {
	base := []tablewriter.Option{
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
	}
	return tablewriter.NewTable(w, append(base, opts...)...)
}

// ANSI SGR codes of the palette.
const (
	Red     = "31"
	Green   = "32"
	Yellow  = "33"
	Blue    = "34"
	Magenta = "35"
	Cyan    = "36"
	Dim     = "2"
	Bold    = "1"
	BoldRed = "1;31"
)

// Palette paints text with ANSI colour when On, and leaves it alone when
// off, so colourless output is byte-for-byte stable. Colour never carries
// meaning alone: the callers also write every state out.
type Palette struct{ On bool }

// Paint wraps s in the SGR code, when on.
func (p Palette) Paint(code, s string) string {
	if !p.On || code == "" || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Bold paints s bold.
func (p Palette) Bold(s string) string { return p.Paint(Bold, s) }
