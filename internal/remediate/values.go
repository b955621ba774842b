package remediate

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// normalize makes a decoded JSON value comparable: integral numbers become
// int64, others float64; GUID-looking strings stay as sent.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
		return x
	case int:
		return int64(x)
	}
	return v
}

// sameValue compares two column values as Dataverse would.
func sameValue(a, b any) bool {
	a, b = normalize(a), normalize(b)
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok {
			return strings.EqualFold(sa, sb) && (sa == sb || isGUID(sa))
		}
	}
	return a == b
}

// differences lists the columns of want whose value in got differs, as
// "column: want → got".
func differences(want, got map[string]any) []string {
	var out []string
	for _, k := range sortedKeys(want) {
		g, ok := got[k]
		if !ok {
			out = append(out, fmt.Sprintf("%s: %s → (not returned)", k, show(want[k])))
			continue
		}
		if !sameValue(want[k], g) {
			out = append(out, fmt.Sprintf("%s: %s → %s", k, show(want[k]), show(g)))
		}
	}
	return out
}

func show(v any) string {
	b, err := json.Marshal(normalize(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}
