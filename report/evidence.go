package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/teamslink/teamslink/internal/termtext"
)

// Bounds of the compact evidence shown by text formats. The JSON format
// always carries the full evidence.
const (
	maxSampled       = 5   // records or values shown from one list
	maxEvidenceLines = 16  // lines of evidence shown for one finding
	maxValueRunes    = 320 // runes shown of one value (a sentence of reasoning fits)
	maxObjectDepth   = 3   // nested objects flattened before being summarised
)

// evidenceLines renders a finding's evidence as a few "key: value" lines,
// sorted by key: nested objects flattened to dotted keys, lists of values
// joined, lists of records counted with at most maxSampled of them shown by
// their ids, URLs and names. Evidence that cannot be encoded as JSON is an error.
func evidenceLines(ev map[string]any) ([]string, error) {
	if len(ev) == 0 {
		return nil, nil
	}
	norm, err := normalizeJSON(ev)
	if err != nil {
		return nil, err
	}
	obj, ok := norm.(map[string]any)
	if !ok { // a nil map
		return nil, nil
	}
	var lines []string
	appendObject(&lines, "", obj, 0)
	if len(lines) > maxEvidenceLines {
		more := len(lines) - (maxEvidenceLines - 1)
		lines = append(lines[:maxEvidenceLines-1],
			fmt.Sprintf("… and %d more lines (the json format has the full evidence)", more))
	}
	return lines, nil
}

// normalizeJSON round-trips v through encoding/json so that only the JSON
// types remain (map[string]any, []any, string, json.Number, bool, nil),
// whatever Go types the engine built the evidence from.
func normalizeJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

func appendObject(lines *[]string, prefix string, obj map[string]any, depth int) {
	for _, k := range sortedKeys(obj) {
		appendValue(lines, prefix+termtext.Clean(k), obj[k], depth)
	}
}

func appendValue(lines *[]string, path string, v any, depth int) {
	switch x := v.(type) {
	case map[string]any:
		switch {
		case len(x) == 0:
			*lines = append(*lines, path+": {}")
		case depth+1 >= maxObjectDepth:
			*lines = append(*lines, path+": "+recordSummary(x))
		default:
			appendObject(lines, path+".", x, depth+1)
		}
	case []any:
		appendList(lines, path, x)
	default:
		*lines = append(*lines, path+": "+scalar(x))
	}
}

// appendList renders a list: scalars on one line, records one per line.
func appendList(lines *[]string, path string, list []any) {
	if len(list) == 0 {
		*lines = append(*lines, path+": none")
		return
	}
	shown := list[:min(len(list), maxSampled)]
	more := ""
	if n := len(list) - len(shown); n > 0 {
		more = fmt.Sprintf("… and %d more", n)
	}
	if allScalars(list) {
		parts := make([]string, len(shown))
		for i, v := range shown {
			parts[i] = scalar(v)
		}
		line := path + ": " + strings.Join(parts, ", ")
		if more != "" {
			line += " " + more
		}
		*lines = append(*lines, line)
		return
	}
	noun := "items"
	if allRecords(list) {
		noun = "records"
	}
	if len(list) == 1 {
		noun = strings.TrimSuffix(noun, "s")
	}
	*lines = append(*lines, fmt.Sprintf("%s: %d %s", path, len(list), noun))
	for _, v := range shown {
		*lines = append(*lines, "  - "+item(v))
	}
	if more != "" {
		*lines = append(*lines, "  "+more)
	}
}

// item renders one element of a list of records on one line.
func item(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return recordSummary(x)
	case []any:
		return fmt.Sprintf("[%d items]", len(x))
	default:
		return scalar(x)
	}
}

// recordSummary renders a record on one line by what identifies it: its
// first URL field and its first id field, or else its first name field and
// first id field, or else all its scalar fields, as "key=value".
func recordSummary(rec map[string]any) string {
	var url, id, name string
	var all []string
	for _, k := range sortedKeys(rec) {
		v := rec[k]
		if !isScalar(v) {
			continue
		}
		pair := termtext.Clean(k) + "=" + scalar(v)
		all = append(all, pair)
		key := strings.ToLower(k)
		switch {
		case strings.Contains(key, "url"):
			url = cmp.Or(url, pair)
		case strings.HasSuffix(key, "id"):
			id = cmp.Or(id, pair)
		case strings.HasSuffix(key, "name"):
			name = cmp.Or(name, pair)
		}
	}
	var ident []string
	for _, p := range []string{cmp.Or(url, name), id} {
		if p != "" {
			ident = append(ident, p)
		}
	}
	switch {
	case len(ident) > 0:
		return strings.Join(ident, " ")
	case len(all) > 0:
		return strings.Join(all, " ")
	}
	return fmt.Sprintf("{%d fields}", len(rec))
}

// scalar renders a JSON scalar on one line, bounded.
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		s := strings.Join(strings.Fields(termtext.Clean(x)), " ")
		if s == "" {
			return `""`
		}
		return truncate(s, maxValueRunes)
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return truncate(fmt.Sprint(v), maxValueRunes)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

func allScalars(list []any) bool {
	for _, v := range list {
		if !isScalar(v) {
			return false
		}
	}
	return true
}

func allRecords(list []any) bool {
	for _, v := range list {
		if _, ok := v.(map[string]any); !ok {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
