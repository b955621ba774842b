//go:build linux || darwin || freebsd || netbsd || openbsd

package safefile_test

import (
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestCreateWritesFIFOInPlace writes to a named pipe with a reader on the
// other end: the reader gets the content, and the pipe is still a pipe.
func TestCreateWritesFIFOInPlace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	type result struct {
		data []byte
		err  error
	}
	read := make(chan result, 1)
	go func() {
		f, err := os.Open(path) // blocks until the writer opens the pipe
		if err != nil {
			read <- result{err: err}
			return
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		read <- result{data, err}
	}()
	if err := write(t, path, newContent); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-read:
		if r.err != nil || string(r.data) != newContent {
			t.Errorf("reader got %q, %v; want %q", r.data, r.err, newContent)
		}
	case <-time.After(10 * time.Second):
		t.Error("the reader got nothing: the pipe was not written")
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("%s is no longer a named pipe: %v %v", path, fi.Mode(), err)
	}
	noTemps(t, dir)
}

// TestCreateNeverReplacesSocket: a socket cannot be opened as a file, so the
// write fails, and the socket is still there.
func TestCreateNeverReplacesSocket(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Skipf("no unix sockets here: %v", err)
	}
	defer l.Close()
	if err := write(t, path, newContent); err == nil {
		t.Error("writing to a socket succeeded")
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSocket == 0 {
		t.Errorf("%s is no longer a socket: %v %v", path, fi.Mode(), err)
	}
	noTemps(t, dir)
}
