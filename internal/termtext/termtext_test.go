package termtext

import (
	"slices"
	"testing"
)

func TestWrap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		text  string
		width int
		want  []string
	}{
		{name: "fits", text: "short text", width: 20, want: []string{"short text"}},
		{name: "breaks on words", text: "one two three four", width: 9, want: []string{"one two", "  three", "  four"}},
		{name: "label keeps its value", text: "docs: https://example.invalid/long", width: 10, want: []string{"docs: https://example.invalid/long"}},
		{name: "bullet keeps its item", text: "  - abc=1 def=2", width: 8, want: []string{"  - abc=1", "    def=2"}},
		{name: "painted label keeps its value", text: "\x1b[2mdocs:\x1b[0m https://example.invalid/long", width: 10,
			want: []string{"\x1b[2mdocs:\x1b[0m https://example.invalid/long"}},
		{name: "keeps indent, hangs continuation", text: "  key: a b c d", width: 9, want: []string{"  key: a", "    b c d"}},
		{name: "long word kept whole", text: "see https://example.invalid/a/very/long/path now", width: 10,
			want: []string{"see", "  https://example.invalid/a/very/long/path", "  now"}},
		{name: "paragraphs", text: "a\n\nb", width: 10, want: []string{"a", "b"}},
		{name: "escapes do not count", text: "\x1b[2mdocs:\x1b[0m abc", width: 9, want: []string{"\x1b[2mdocs:\x1b[0m abc"}},
		{name: "empty", text: "", width: 10, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Wrap(tt.text, tt.width); !slices.Equal(got, tt.want) {
				t.Errorf("Wrap(%q, %d) = %q; want %q", tt.text, tt.width, got, tt.want)
			}
		})
	}
}

func TestProse(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Disable OneDrive (Settings >\nDocument management), or\nconfigure it.\n", "Disable OneDrive (Settings > Document management), or configure it."},
		{"First paragraph\nwrapped.\n\nSecond one.", "First paragraph wrapped.\nSecond one."},
		{"\n\n  spaced \t out  \n\n\n", "spaced out"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Prose(tt.in); got != tt.want {
			t.Errorf("Prose(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCleanAndPalette(t *testing.T) {
	t.Parallel()
	if got := Clean("a\x1b[31mb\tc\u202ed\n"); got != "a\ufffd[31mb c\ufffdd\n" {
		t.Errorf("Clean = %q", got)
	}
	if got := Lines("a", "", "b\x07"); got != "a\nb\ufffd" {
		t.Errorf("Lines = %q", got)
	}
	on, off := Palette{On: true}, Palette{}
	if got := on.Bold("x"); got != "\x1b[1mx\x1b[0m" || StripSGR(got) != "x" || VisibleLen(got) != 1 {
		t.Errorf("Bold on = %q", got)
	}
	if got := off.Paint(Red, "x"); got != "x" {
		t.Errorf("Paint off = %q", got)
	}
}
