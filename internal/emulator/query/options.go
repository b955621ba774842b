package query

import (
	"strings"
)

// ParseSelect splits a $select value into property names. Names are not
// checked here: the caller knows the resource.
func ParseSelect(src string) ([]string, error) {
	var out []string
	pos := 0
	for _, part := range strings.Split(src, ",") {
		name := strings.TrimSpace(part)
		if name == "" || !validName(name) {
			return nil, &SyntaxError{Src: src, Pos: pos, Reason: "property name expected"}
		}
		out = append(out, name)
		pos += len(part) + 1
	}
	return out, nil
}

// OrderItem is one $orderby key.
type OrderItem struct {
	Name string
	Desc bool
}

// ParseOrderBy parses a $orderby value and checks each property against resolve.
func ParseOrderBy(src string, resolve Resolver) ([]OrderItem, error) {
	var out []OrderItem
	pos := 0
	for _, part := range strings.Split(src, ",") {
		fields := strings.Fields(part)
		if len(fields) == 0 || len(fields) > 2 || !validName(fields[0]) {
			return nil, &SyntaxError{Src: src, Pos: pos, Reason: "property name expected"}
		}
		item := OrderItem{Name: fields[0]}
		if len(fields) == 2 {
			switch fields[1] {
			case "asc":
			case "desc":
				item.Desc = true
			default:
				return nil, &SyntaxError{Src: src, Pos: pos + strings.Index(part, fields[1]), Reason: "'asc' or 'desc' expected"}
			}
		}
		if _, ok := resolve(item.Name); !ok {
			return nil, &UnknownPropertyError{Name: item.Name}
		}
		out = append(out, item)
		pos += len(part) + 1
	}
	return out, nil
}

// ExpandItem is one navigation property in $expand with its nested options
// (keys such as "$select", "$filter").
type ExpandItem struct {
	Name    string
	Options map[string]string
}

// ParseExpand parses a $expand value such as
// "teamroles_association($select=name,roleid;$filter=name ne null),other".
func ParseExpand(src string) ([]ExpandItem, error) {
	parts, err := splitTopLevel(src, ',')
	if err != nil {
		return nil, err
	}
	var out []ExpandItem
	for _, p := range parts {
		text := strings.TrimSpace(p.text)
		item := ExpandItem{Options: map[string]string{}}
		open := strings.IndexByte(text, '(')
		if open < 0 {
			item.Name = text
		} else {
			if !strings.HasSuffix(text, ")") {
				return nil, &SyntaxError{Src: src, Pos: p.pos + len(p.text), Reason: "')' expected"}
			}
			item.Name = strings.TrimSpace(text[:open])
			inner := text[open+1 : len(text)-1]
			opts, err := splitTopLevel(inner, ';')
			if err != nil {
				return nil, &SyntaxError{Src: src, Pos: p.pos + open, Reason: "unbalanced parentheses"}
			}
			for _, o := range opts {
				kv := strings.TrimSpace(o.text)
				if kv == "" {
					continue
				}
				k, v, ok := strings.Cut(kv, "=")
				k = strings.TrimSpace(k)
				if !ok || !strings.HasPrefix(k, "$") {
					return nil, &SyntaxError{Src: src, Pos: p.pos + open + 1 + o.pos, Reason: "query option expected"}
				}
				k = strings.ToLower(k)
				if _, dup := item.Options[k]; dup {
					return nil, &SyntaxError{Src: src, Pos: p.pos + open + 1 + o.pos, Reason: "query option " + k + " repeated"}
				}
				item.Options[k] = strings.TrimSpace(v)
			}
		}
		if !validName(item.Name) {
			return nil, &SyntaxError{Src: src, Pos: p.pos, Reason: "navigation property name expected"}
		}
		out = append(out, item)
	}
	return out, nil
}

type piece struct {
	text string
	pos  int
}

// splitTopLevel splits s on sep outside parentheses and quotes.
func splitTopLevel(s string, sep byte) ([]piece, error) {
	var out []piece
	depth, start := 0, 0
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return nil, &SyntaxError{Src: s, Pos: i, Reason: "unbalanced parentheses"}
			}
		case c == sep && depth == 0:
			out = append(out, piece{text: s[start:i], pos: start})
			start = i + 1
		}
	}
	if depth != 0 || inQuote {
		return nil, &SyntaxError{Src: s, Pos: len(s), Reason: "unbalanced parentheses or quotes"}
	}
	return append(out, piece{text: s[start:], pos: start}), nil
}

func validName(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	return true
}

// Prefer holds the preferences of one or more Prefer headers, by lowercase
// name, with quotes removed from values ("" for a bare preference).
type Prefer map[string]string

// ParsePrefer reads Prefer header values such as
// `odata.include-annotations="*"`, `odata.maxpagesize=2` and
// `odata.continue-on-error`, comma-separated or in several headers.
func ParsePrefer(headers []string) Prefer {
	out := Prefer{}
	for _, h := range headers {
		parts, err := splitTopLevelQuoted(h)
		if err != nil {
			continue
		}
		for _, p := range parts {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			// Parameters after ';' are not used by any preference we serve.
			p, _, _ = strings.Cut(p, ";")
			k, v, _ := strings.Cut(p, "=")
			v = strings.TrimSpace(v)
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			out[strings.ToLower(strings.TrimSpace(k))] = v
		}
	}
	return out
}

// splitTopLevelQuoted splits on commas outside double quotes.
func splitTopLevelQuoted(s string) ([]string, error) {
	var out []string
	start := 0
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if inQuote {
		return nil, &SyntaxError{Src: s, Pos: len(s), Reason: "unterminated quote"}
	}
	return append(out, s[start:]), nil
}

// AnnotationMatcher reports whether an annotation term (such as
// "OData.Community.Display.V1.FormattedValue") was asked for by an
// odata.include-annotations preference: "*", exact terms, "Namespace.*"
// wildcards, and "-" exclusions, which win.
func AnnotationMatcher(pref string) func(term string) bool {
	if pref == "" {
		return func(string) bool { return false }
	}
	var include, exclude []string
	for _, p := range strings.Split(pref, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if strings.HasPrefix(p, "-") {
			exclude = append(exclude, p[1:])
		} else {
			include = append(include, p)
		}
	}
	match := func(pattern, term string) bool {
		if pattern == "*" {
			return true
		}
		if prefix, ok := strings.CutSuffix(pattern, ".*"); ok {
			return strings.HasPrefix(term, prefix+".")
		}
		return strings.EqualFold(pattern, term)
	}
	return func(term string) bool {
		for _, e := range exclude {
			if match(e, term) {
				return false
			}
		}
		for _, i := range include {
			if match(i, term) {
				return true
			}
		}
		return false
	}
}
