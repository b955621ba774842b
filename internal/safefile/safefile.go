// Package safefile writes output files without losing what was at their path.
//
// A regular file, or a path where nothing is yet, is replaced atomically: the
// new content goes to a temporary file in the same directory, is synced, and
// is renamed over the path only on Commit, keeping the old file's permission
// bits (a new file gets 0644, less the umask). A symbolic link is followed to
// its final target, which is replaced the same way, so the link stays a link.
// Anything else that exists — a device such as /dev/null, a named pipe, a
// socket, /dev/stdout on a terminal or a pipe — is opened and written in
// place, never replaced. A directory is refused.
package safefile

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// newFilePerm is the mode of a file that did not exist, before the umask.
const newFilePerm = 0o644

// maxLinks bounds how many symbolic links are followed, as the kernel does.
const maxLinks = 40

// A File is an output file being written. Until Commit, a regular file at
// its path keeps its old content; Abort discards what was written.
type File struct {
	target string   // the file that ends up with the content
	f      *os.File // the temporary file, or the target itself when direct
	w      *bufio.Writer
	direct bool // written in place: a device, pipe or socket
	perm   fs.FileMode
	chmod  bool // give the temporary file perm (the old file's mode)
	done   bool
}

// Create starts writing path as the package doc describes.
func Create(path string) (*File, error) {
	if path == "" {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrInvalid}
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Nothing there, or a link to nothing: create its target.
		target, err := resolve(path)
		if err != nil {
			return nil, err
		}
		return createTemp(path, target, newFilePerm, false)
	case err != nil:
		return nil, err
	case fi.IsDir():
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EISDIR}
	case !fi.Mode().IsRegular():
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		return &File{target: path, f: f, w: bufio.NewWriter(f), direct: true}, nil
	}
	target, err := resolve(path)
	if err != nil {
		return nil, err
	}
	if tfi, err := os.Lstat(target); err != nil || !os.SameFile(fi, tfi) {
		// A link the kernel follows but its text does not name, such as
		// /proc/self/fd/1 on a deleted file: there is no place to write next to.
		return nil, &fs.PathError{Op: "open", Path: path, Err: errors.New("cannot tell which file the path leads to")}
	}
	return createTemp(path, target, fi.Mode().Perm(), true)
}

// resolve follows symbolic links from path to the first name that is not
// one (and may not exist).
func resolve(path string) (string, error) {
	for range maxLinks {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		link, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		path = link
	}
	return "", &fs.PathError{Op: "open", Path: path, Err: syscall.ELOOP}
}

// createTemp opens a new temporary file next to target; path, as asked for,
// only names errors. O_EXCL with a mode, rather than os.CreateTemp's fixed
// 0600, lets the umask apply to a new file.
func createTemp(path, target string, perm fs.FileMode, chmod bool) (*File, error) {
	dir, base := filepath.Split(target)
	var random [6]byte
	for range 100 {
		if _, err := rand.Read(random[:]); err != nil {
			return nil, err
		}
		name := filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(random[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &File{target: target, f: f, w: bufio.NewWriter(f), perm: perm, chmod: chmod}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: path, Err: errors.New("no free temporary name")}
}

// Write writes p; nothing reaches a regular file's path before Commit.
func (f *File) Write(p []byte) (int, error) {
	if f.done {
		return 0, fs.ErrClosed
	}
	return f.w.Write(p)
}

// Commit puts the content in place: it syncs the temporary file and renames
// it over the target. If ctx has ended it does not, and returns why
// (context.Cause) with the old file untouched. For a file written in place
// Commit flushes and closes it.
func (f *File) Commit(ctx context.Context) error {
	if f.done {
		return fs.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		_ = f.Abort()
		return context.Cause(ctx)
	}
	f.done = true
	if f.direct {
		err := f.w.Flush()
		if cerr := f.f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	err := f.w.Flush()
	if err == nil && f.chmod {
		err = f.f.Chmod(f.perm)
	}
	if err == nil {
		err = f.f.Sync()
	}
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.f.Name(), f.target)
	}
	if err != nil {
		_ = os.Remove(f.f.Name())
		return err
	}
	syncDir(filepath.Dir(f.target))
	return nil
}

// Abort discards what was written and leaves the path as it was (a file
// written in place keeps what already reached it). It does nothing after
// Commit, so it can be deferred.
func (f *File) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	err := f.f.Close()
	if !f.direct {
		if rerr := os.Remove(f.f.Name()); err == nil {
			err = rerr
		}
	}
	return err
}

// syncDir makes a rename in dir durable where the platform allows it; where
// it does not, the rename is still atomic, only perhaps not yet on disk.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
