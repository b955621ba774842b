package emulator

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
)

// maxBatchRequests is the Dataverse batch limit (facts §7).
const maxBatchRequests = 1000

// maxBatchBody bounds a $batch request body.
const maxBatchBody = 16 << 20

// batchOp is one request of a batch, alone or in a change set.
type batchOp struct {
	contentID string
	req       *http.Request
	err       string // parse problem answered as a 400 part
}

type batchItem struct {
	op        *batchOp   // a single request
	changeSet []*batchOp // or a change set
}

// dvBatch serves a multipart $batch (facts §7): each part runs through the
// same handler with the outer token; change sets are atomic; without
// Prefer: odata.continue-on-error the batch stops at the first failure.
func (s *Server) dvBatch(w http.ResponseWriter, r *http.Request, d *dvReq) {
	rc := d.rc
	s.lock(rc)
	ok := s.authenticate(w, r, rc, audiencesOf(rc.env)...)
	s.unlock(rc)
	if !ok {
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" || params["boundary"] == "" {
		dvError(w, http.StatusBadRequest, codeQuery, "A $batch request needs Content-Type: multipart/mixed; boundary=batch_<id>.")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBatchBody+1))
	if err != nil || len(body) > maxBatchBody {
		dvError(w, http.StatusRequestEntityTooLarge, codeQuery, fmt.Sprintf("The $batch body could not be read or exceeds %d bytes.", maxBatchBody))
		return
	}
	items, n, err := parseBatch(body, params["boundary"], r, d)
	if err != nil {
		dvError(w, http.StatusBadRequest, codeQuery, "The batch request body is not valid: "+err.Error())
		return
	}
	if n > maxBatchRequests {
		dvError(w, http.StatusBadRequest, codeQuery, fmt.Sprintf("The number of requests in a batch (%d) exceeds the limit of %d.", n, maxBatchRequests))
		return
	}
	_, continueOnError := d.prefer["odata.continue-on-error"]
	boundary := "batchresponse_" + newGUID()
	var out bytes.Buffer
	for _, it := range items {
		failed := false
		if it.op != nil {
			buf := s.runBatchOp(rc, it.op, false)
			writeHTTPPart(&out, boundary, it.op.contentID, buf)
			failed = buf.code() >= 400
		} else {
			bufs, failedAt := s.runChangeSet(rc, d.env, it.changeSet)
			if failedAt >= 0 {
				writeHTTPPart(&out, boundary, it.changeSet[failedAt].contentID, bufs[failedAt])
				failed = true
			} else {
				cs := "changesetresponse_" + newGUID()
				fmt.Fprintf(&out, "--%s\r\nContent-Type: multipart/mixed; boundary=%s\r\n\r\n", boundary, cs)
				for i, b := range bufs {
					writeHTTPPart(&out, cs, it.changeSet[i].contentID, b)
				}
				fmt.Fprintf(&out, "--%s--\r\n", cs)
			}
		}
		if failed && !continueOnError {
			break
		}
	}
	fmt.Fprintf(&out, "--%s--\r\n", boundary)
	if continueOnError {
		w.Header().Set("Preference-Applied", "odata.continue-on-error")
	}
	w.Header().Set("Content-Type", "multipart/mixed; boundary="+boundary)
	w.Header().Set("Content-Length", strconv.Itoa(out.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out.Bytes())
}

// runBatchOp executes one inner request and logs it as a child.
func (s *Server) runBatchOp(parent *reqCtx, op *batchOp, locked bool) *bufferedWriter {
	buf := newBufferedWriter()
	if op.err != "" {
		dvError(buf, http.StatusBadRequest, codeQuery, op.err)
		parent.entry.Children = append(parent.entry.Children, LoggedRequest{Time: s.opts.Clock().UTC(), Host: parent.host, Method: "?", Path: "(unparsable part)", Status: buf.code()})
		return buf
	}
	s.runInner(parent, op.req, buf, locked)
	return buf
}

// runInner dispatches an inner request into buf and appends its log entry to
// the parent's, even when a reset fault aborts the batch.
func (s *Server) runInner(parent *reqCtx, req *http.Request, buf *bufferedWriter, locked bool) {
	child := &LoggedRequest{Time: s.opts.Clock().UTC(), Host: hostOnly(req.Host), Method: req.Method, Path: redactedPath(req.URL)}
	completed := false
	defer func() {
		if completed {
			child.Status = buf.code()
		}
		parent.entry.Children = append(parent.entry.Children, *child)
	}()
	s.dispatch(buf, req, &reqCtx{entry: child, inner: true, locked: locked, outer: parent.root()})
	completed = true
}

// runChangeSet runs a change set atomically: on the first failure the
// environment is restored and failedAt names the failing request.
func (s *Server) runChangeSet(parent *reqCtx, env *envState, ops []*batchOp) (bufs []*bufferedWriter, failedAt int) {
	held := &reqCtx{tenant: env.tenant}
	s.lock(held)
	defer s.unlock(held)
	saved := env.snapshot()
	committed := false
	defer func() {
		// A failed request, or a reset fault unwinding the batch, undoes
		// the whole change set.
		if !committed {
			env.restore(saved)
		}
	}()
	for i, op := range ops {
		buf := s.runBatchOp(parent, op, true)
		bufs = append(bufs, buf)
		if buf.code() >= 400 {
			return bufs, i
		}
	}
	committed = true
	return bufs, -1
}

// parseBatch reads the parts of a multipart batch body.
func parseBatch(body []byte, boundary string, outer *http.Request, d *dvReq) ([]batchItem, int, error) {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var items []batchItem
	count := 0
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("multipart: %w", err)
		}
		mt, params, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			return nil, 0, fmt.Errorf("part %d: Content-Type: %w", len(items)+1, err)
		}
		switch mt {
		case "application/http":
			op, err := readBatchOp(part, outer, d)
			if err != nil {
				return nil, 0, fmt.Errorf("part %d: %w", len(items)+1, err)
			}
			items = append(items, batchItem{op: op})
			count++
		case "multipart/mixed":
			cs := multipart.NewReader(part, params["boundary"])
			var ops []*batchOp
			for {
				p, err := cs.NextRawPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					return nil, 0, fmt.Errorf("change set %d: %w", len(items)+1, err)
				}
				if t, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); t != "application/http" {
					return nil, 0, fmt.Errorf("change set %d: parts must be application/http, not %q (change sets cannot nest)", len(items)+1, p.Header.Get("Content-Type"))
				}
				op, err := readBatchOp(p, outer, d)
				if err != nil {
					return nil, 0, fmt.Errorf("change set %d: %w", len(items)+1, err)
				}
				if op.req != nil && op.req.Method == http.MethodGet {
					return nil, 0, fmt.Errorf("change set %d: change sets cannot contain GET requests", len(items)+1)
				}
				ops = append(ops, op)
				count++
			}
			items = append(items, batchItem{changeSet: ops})
		default:
			return nil, 0, fmt.Errorf("part %d: Content-Type must be application/http or multipart/mixed, not %q", len(items)+1, mt)
		}
	}
	return items, count, nil
}

// readBatchOp parses one application/http part: request line, headers,
// blank line, body.
func readBatchOp(part *multipart.Part, outer *http.Request, d *dvReq) (*batchOp, error) {
	op := &batchOp{contentID: part.Header.Get("Content-ID")}
	raw, err := io.ReadAll(part)
	if err != nil {
		return nil, fmt.Errorf("read part: %w", err)
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(bytes.TrimLeft(raw, "\r\n"))))
	line, err := tp.ReadLine()
	if err != nil {
		return nil, fmt.Errorf("no request line: %w", err)
	}
	fields := strings.Fields(line)
	if len(fields) != 3 || !strings.HasPrefix(fields[2], "HTTP/") {
		return nil, fmt.Errorf("bad request line %q (want METHOD URL HTTP/1.1)", line)
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("headers: %w", err)
	}
	rest, _ := io.ReadAll(tp.R)
	rest = bytes.TrimRight(rest, "\r\n")
	target := fields[1]
	switch {
	case strings.HasPrefix(target, "$"):
		op.err = fmt.Sprintf("Content-ID references such as %s are not emulated.", target)
		return op, nil
	case strings.HasPrefix(strings.ToLower(target), "https://"):
		rest := target[len("https://"):]
		host, _, _ := strings.Cut(rest, "/")
		if hostOnly(host) != d.rc.host {
			op.err = fmt.Sprintf("The request URL %s is not on the batch's host %s.", target, d.rc.host)
			return op, nil
		}
		target = strings.TrimPrefix(rest, host)
	case strings.HasPrefix(target, "/"):
	default:
		target = "/api/data/" + d.version + "/" + target
	}
	req, err := http.NewRequestWithContext(outer.Context(), fields[0], "https://"+d.rc.host+target, bytes.NewReader(rest))
	if err != nil {
		op.err = fmt.Sprintf("Bad request URL %q: %v", fields[1], err)
		return op, nil
	}
	req.Host = d.rc.host
	req.Header = http.Header(hdr)
	if req.Header == nil {
		req.Header = http.Header{}
	}
	// Inner requests run with the outer request's credentials.
	req.Header.Set("Authorization", outer.Header.Get("Authorization"))
	req.RemoteAddr = outer.RemoteAddr
	op.req = req
	return op, nil
}

// writeHTTPPart writes a captured response as an application/http part.
func writeHTTPPart(out *bytes.Buffer, boundary, contentID string, b *bufferedWriter) {
	fmt.Fprintf(out, "--%s\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n", boundary)
	if contentID != "" {
		fmt.Fprintf(out, "Content-ID: %s\r\n", contentID)
	}
	status := b.code()
	fmt.Fprintf(out, "\r\nHTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	keys := make([]string, 0, len(b.header))
	for k := range b.header {
		if k != "Content-Length" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range b.header[k] {
			fmt.Fprintf(out, "%s: %s\r\n", k, v)
		}
	}
	out.WriteString("\r\n")
	out.Write(b.body.Bytes())
	out.WriteString("\r\n")
}

// snapshot copies an environment's mutable state (for change-set rollback).
type envSnapshot struct {
	tables   map[string]*table
	links    map[linkKey][]string
	entities []entityDef
	version  int64
}

func (env *envState) snapshot() envSnapshot {
	snap := envSnapshot{tables: map[string]*table{}, links: map[linkKey][]string{}, version: env.version}
	for name, t := range env.tables {
		snap.tables[name] = t.clone()
	}
	for k, v := range env.links {
		snap.links[k] = append([]string(nil), v...)
	}
	for _, e := range env.entities {
		snap.entities = append(snap.entities, *e)
	}
	return snap
}

func (env *envState) restore(snap envSnapshot) {
	env.tables = snap.tables
	env.links = snap.links
	env.version = snap.version
	for i := range env.entities {
		*env.entities[i] = snap.entities[i]
	}
}
