// Package lazyfs serves a folder through FUSE as a disk with a volatile
// write cache would: what a program writes is held in memory, and reaches
// the folder only when the program fsyncs the file. Crash then drops what
// was never synced, as a power cut does, so that a test can reopen the
// folder and see only what a program had made durable. It models Jepsen's
// LazyFS, in Go and in the test's own process.
//
// What it models is the contents of files. Creating, renaming and removing
// files, and truncation on open, reach the folder at once, as if every
// directory were synced; locks stay in the kernel, as on any local disk.
// Mounting needs root and /dev/fuse. The programs under test run in other
// processes than the one that serves the mount (see Crash).
package lazyfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// ErrUnavailable: this machine cannot mount a FUSE file system here
// (no /dev/fuse, not root, or the kernel refused the mount).
var ErrUnavailable = errors.New("lazyfs: FUSE is not available")

// pageSize is the unit in which unsynced writes are held, and kept or
// dropped by a crash.
const pageSize = 4096

// FS is a mounted lazy file system.
type FS struct {
	dir, mnt string
	srv      *fuse.Server

	crashed atomic.Bool
	syncs   atomic.Int64
	lost    atomic.Int64

	mu    sync.Mutex
	files map[uint64]*file // by inode, for the files opened so far
	all   []*file          // every file ever opened, to close
}

// Mount serves dir at mnt (an empty folder) until Crash or Unmount.
func Mount(dir, mnt string) (*FS, error) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: mounting needs root", ErrUnavailable)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	lz := &FS{dir: dir, mnt: mnt, files: map[uint64]*file{}}
	root, err := fs.NewLoopbackRoot(dir)
	if err != nil {
		return nil, err
	}
	lz.srv, err = fs.Mount(mnt, &node{LoopbackNode: root.(*fs.LoopbackNode), lz: lz}, &fs.Options{
		MountOptions: fuse.MountOptions{
			DirectMount:       true,
			DirectMountStrict: true,
			FsName:            "lazyfs",
			Name:              "lazyfs",
			DisableXAttrs:     true,
		},
	})
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.ENODEV) {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if err != nil {
		return nil, fmt.Errorf("lazyfs: mount %s: %w", mnt, err)
	}
	return lz, nil
}

// Syncs counts the fsyncs that wrote something through to the folder.
func (lz *FS) Syncs() int64 { return lz.syncs.Load() }

// Lost counts the pages written and never synced that the crash dropped.
func (lz *FS) Lost() int64 { return lz.lost.Load() }

// Crash cuts the power: what was written but not synced is lost, except
// the pages keep says reached the disk anyway (keep nil: none did), and
// the file system then unmounts. Every operation after the cut fails with
// EIO. The programs using the mount should be gone first (killed), or the
// unmount fails while they hold files open.
func (lz *FS) Crash(keep func() bool) error {
	lz.crashed.Store(true)
	lz.mu.Lock()
	all := lz.all
	lz.all, lz.files = nil, map[uint64]*file{}
	lz.mu.Unlock()
	var errs []error
	for _, f := range all {
		lost, err := f.cut(keep)
		lz.lost.Add(lost)
		errs = append(errs, err)
	}
	if err := lz.srv.Unmount(); err != nil {
		// A file still open: detach the mount so that no later program
		// finds it, and say so. (A process that serves the mount must not
		// map its files itself: at its exit, the kernel would wait for
		// that mapping to be written back by the server it just ended.)
		errs = append(errs, fmt.Errorf("lazyfs: unmount %s: %w (still in use?)", lz.mnt, err),
			syscall.Unmount(lz.mnt, syscall.MNT_DETACH))
	}
	return errors.Join(errs...)
}

// Unmount ends the file system as an orderly shutdown would: every page
// written reaches the folder, synced or not.
func (lz *FS) Unmount() error {
	return lz.Crash(func() bool { return true })
}

// state returns the state of the file at ino, reading it from path the
// first time it is opened.
func (lz *FS) state(ino uint64, path string) (*file, syscall.Errno) {
	lz.mu.Lock()
	defer lz.mu.Unlock()
	if f := lz.live(ino); f != nil {
		return f, 0
	}
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, fs.ToErrno(err)
	}
	f := &file{fd: fd, size: st.Size, base: st.Size, dirty: map[int64][]byte{}}
	lz.files[ino] = f
	lz.all = append(lz.all, f)
	return f, 0
}

// lookup returns the state of the file at ino if it was opened.
func (lz *FS) lookup(ino uint64) *file {
	lz.mu.Lock()
	defer lz.mu.Unlock()
	return lz.live(ino)
}

// live returns the state kept for ino, unless that file was removed since:
// a new file may then have its inode number. The caller holds mu.
func (lz *FS) live(ino uint64) *file {
	f := lz.files[ino]
	if f == nil {
		return nil
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(f.fd, &st); err != nil || st.Nlink == 0 {
		delete(lz.files, ino)
		return nil
	}
	return f
}

// file is what one file holds: the pages written since its last sync, over
// what its underlying file held then.
type file struct {
	mu    sync.Mutex
	fd    int   // the underlying file, read-write
	size  int64 // as its readers see it
	base  int64 // bytes of the underlying file not truncated away since the last sync
	dirty map[int64][]byte
}

func (f *file) Size() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.size
}

// page returns page i as it reads now; the caller holds mu.
func (f *file) page(i int64) ([]byte, error) {
	if p, ok := f.dirty[i]; ok {
		return p, nil
	}
	p := make([]byte, pageSize)
	off := i * pageSize
	if n := min(f.base-off, pageSize); n > 0 {
		if _, err := syscall.Pread(f.fd, p[:n], off); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (f *file) readAt(buf []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if off >= f.size {
		return 0, nil
	}
	buf = buf[:min(int64(len(buf)), f.size-off)]
	for n := 0; n < len(buf); {
		at := off + int64(n)
		p, err := f.page(at / pageSize)
		if err != nil {
			return n, err
		}
		n += copy(buf[n:], p[at%pageSize:])
	}
	return len(buf), nil
}

func (f *file) writeAt(data []byte, off int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for n := 0; n < len(data); {
		at := off + int64(n)
		p, err := f.page(at / pageSize)
		if err != nil {
			return err
		}
		f.dirty[at/pageSize] = p
		n += copy(p[at%pageSize:], data[n:])
	}
	f.size = max(f.size, off+int64(len(data)))
	return nil
}

func (f *file) truncate(size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if size < f.size {
		// The rest of the last page reads as zeros if the file grows again.
		if size%pageSize != 0 {
			p, err := f.page(size / pageSize)
			if err != nil {
				return err
			}
			clear(p[size%pageSize:])
			f.dirty[size/pageSize] = p
		}
		for i := range f.dirty {
			if i*pageSize >= size {
				delete(f.dirty, i)
			}
		}
		f.base = min(f.base, size)
	}
	f.size = size
	return nil
}

// sync writes the dirty pages through and makes the underlying file the
// size its readers see. It does not fsync the underlying file: the
// folder outlives the simulated crash, whatever its own disk does.
func (f *file) sync() (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	wrote := len(f.dirty) > 0 || f.base != f.size
	// What was truncated away first, so that the pages between base and
	// size that no write touched read as zeros, as they do above.
	if err := syscall.Ftruncate(f.fd, f.base); err != nil {
		return wrote, err
	}
	for i, p := range f.dirty {
		if err := f.writePage(i, p); err != nil {
			return wrote, err
		}
		delete(f.dirty, i)
	}
	if err := syscall.Ftruncate(f.fd, f.size); err != nil {
		return wrote, err
	}
	f.base = f.size
	return wrote, nil
}

// writePage writes page i to the underlying file, as far as the file
// reaches; the caller holds mu.
func (f *file) writePage(i int64, p []byte) error {
	off := i * pageSize
	n := min(f.size-off, pageSize)
	if n <= 0 {
		return nil
	}
	_, err := syscall.Pwrite(f.fd, p[:n], off)
	return err
}

// cut is the power cut for this file: the pages keep chooses reach the
// underlying file, the others are lost, and so is every truncation since
// the last sync.
func (f *file) cut(keep func() bool) (lost int64, _ error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var err error
	for i, p := range f.dirty {
		if keep != nil && keep() {
			err = errors.Join(err, f.writePage(i, p))
		} else {
			lost++
		}
	}
	f.dirty = nil
	return lost, errors.Join(err, syscall.Close(f.fd))
}

// node is a loopback node whose files are opened lazily.
type node struct {
	*fs.LoopbackNode
	lz *FS
}

var (
	_ fs.NodeWrapChilder    = (*node)(nil)
	_ fs.NodeLookuper       = (*node)(nil)
	_ fs.NodeOpener         = (*node)(nil)
	_ fs.NodeCreater        = (*node)(nil)
	_ fs.NodeGetattrer      = (*node)(nil)
	_ fs.NodeSetattrer      = (*node)(nil)
	_ fs.NodeStatxer        = (*node)(nil)
	_ fs.NodeTmpfiler       = (*node)(nil)
	_ fs.NodeCopyFileRanger = (*node)(nil)
)

func (n *node) WrapChild(ctx context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	return &node{LoopbackNode: ops.(*fs.LoopbackNode), lz: n.lz}
}

func (n *node) path() string {
	return filepath.Join(n.RootData.Path, n.Path(nil))
}

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	ch, errno := n.LoopbackNode.Lookup(ctx, name, out)
	if errno == 0 {
		if f := n.lz.lookup(ch.StableAttr().Ino); f != nil {
			out.Attr.Size = uint64(f.Size())
		}
	}
	return ch, errno
}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if n.lz.crashed.Load() {
		return nil, 0, syscall.EIO
	}
	fh, fl, errno := n.LoopbackNode.Open(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	f, errno := n.lz.state(n.StableAttr().Ino, n.path())
	if errno == 0 && flags&syscall.O_TRUNC != 0 {
		errno = fs.ToErrno(f.truncate(0))
	}
	if errno != 0 {
		fh.(fs.FileReleaser).Release(ctx)
		return nil, 0, errno
	}
	return &handle{lf: fh.(*fs.LoopbackFile), f: f, lz: n.lz}, fl, 0
}

func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if n.lz.crashed.Load() {
		return nil, nil, 0, syscall.EIO
	}
	ch, fh, fl, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	f, errno := n.lz.state(ch.StableAttr().Ino, filepath.Join(n.path(), name))
	if errno == 0 && flags&syscall.O_TRUNC != 0 {
		errno = fs.ToErrno(f.truncate(0))
	}
	if errno != 0 {
		fh.(fs.FileReleaser).Release(ctx)
		return nil, nil, 0, errno
	}
	out.Attr.Size = uint64(f.Size())
	return ch, &handle{lf: fh.(*fs.LoopbackFile), f: f, lz: n.lz}, fl, 0
}

func (n *node) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if h, ok := fh.(*handle); ok {
		return h.Getattr(ctx, out)
	}
	if errno := n.LoopbackNode.Getattr(ctx, nil, out); errno != 0 {
		return errno
	}
	if f := n.lz.lookup(n.StableAttr().Ino); f != nil {
		out.Size = uint64(f.Size())
	}
	return 0
}

func (n *node) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if h, ok := fh.(*handle); ok {
		return h.Setattr(ctx, in, out)
	}
	if size, ok := in.GetSize(); ok && n.StableAttr().Mode&syscall.S_IFMT == syscall.S_IFREG {
		if n.lz.crashed.Load() {
			return syscall.EIO
		}
		f, errno := n.lz.state(n.StableAttr().Ino, n.path())
		if errno != 0 {
			return errno
		}
		if err := f.truncate(int64(size)); err != nil {
			return fs.ToErrno(err)
		}
		rest := *in
		rest.Valid &^= fuse.FATTR_SIZE
		in = &rest
	}
	return n.LoopbackNode.Setattr(ctx, nil, in, out)
}

func (n *node) Statx(ctx context.Context, fh fs.FileHandle, flags, mask uint32, out *fuse.StatxOut) syscall.Errno {
	if h, ok := fh.(*handle); ok {
		return h.Statx(ctx, flags, mask, out)
	}
	if errno := n.LoopbackNode.Statx(ctx, nil, flags, mask, out); errno != 0 {
		return errno
	}
	if f := n.lz.lookup(n.StableAttr().Ino); f != nil {
		out.Size = uint64(f.Size())
	}
	return 0
}

// Tmpfile and CopyFileRange would bypass the cache; the programs tested
// here do without them.
func (n *node) Tmpfile(ctx context.Context, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EOPNOTSUPP
}

func (n *node) CopyFileRange(ctx context.Context, fhIn fs.FileHandle, offIn uint64, out *fs.Inode, fhOut fs.FileHandle, offOut, length, flags uint64) (uint32, syscall.Errno) {
	return 0, syscall.EOPNOTSUPP
}

// handle is an open file: reads and writes go to the file's cached state;
// the underlying descriptor serves attributes and is closed on release.
type handle struct {
	lf *fs.LoopbackFile
	f  *file
	lz *FS
}

var (
	_ fs.FileReader    = (*handle)(nil)
	_ fs.FileWriter    = (*handle)(nil)
	_ fs.FileFsyncer   = (*handle)(nil)
	_ fs.FileFlusher   = (*handle)(nil)
	_ fs.FileReleaser  = (*handle)(nil)
	_ fs.FileGetattrer = (*handle)(nil)
	_ fs.FileSetattrer = (*handle)(nil)
	_ fs.FileStatxer   = (*handle)(nil)
	_ fs.FileAllocater = (*handle)(nil)
)

func (h *handle) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if h.lz.crashed.Load() {
		return nil, syscall.EIO
	}
	n, err := h.f.readAt(buf, off)
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	return fuse.ReadResultData(buf[:n]), 0
}

func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if h.lz.crashed.Load() {
		return 0, syscall.EIO
	}
	if err := h.f.writeAt(data, off); err != nil {
		return 0, fs.ToErrno(err)
	}
	return uint32(len(data)), 0
}

func (h *handle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if h.lz.crashed.Load() {
		return syscall.EIO
	}
	wrote, err := h.f.sync()
	if wrote {
		h.lz.syncs.Add(1)
	}
	return fs.ToErrno(err)
}

func (h *handle) Flush(ctx context.Context) syscall.Errno { return h.lf.Flush(ctx) }

func (h *handle) Release(ctx context.Context) syscall.Errno { return h.lf.Release(ctx) }

func (h *handle) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	if errno := h.lf.Getattr(ctx, out); errno != 0 {
		return errno
	}
	out.Size = uint64(h.f.Size())
	return 0
}

func (h *handle) Setattr(ctx context.Context, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if size, ok := in.GetSize(); ok {
		if h.lz.crashed.Load() {
			return syscall.EIO
		}
		if err := h.f.truncate(int64(size)); err != nil {
			return fs.ToErrno(err)
		}
		rest := *in
		rest.Valid &^= fuse.FATTR_SIZE
		in = &rest
	}
	if errno := h.lf.Setattr(ctx, in, out); errno != 0 {
		return errno
	}
	out.Size = uint64(h.f.Size())
	return 0
}

func (h *handle) Statx(ctx context.Context, flags, mask uint32, out *fuse.StatxOut) syscall.Errno {
	if errno := h.lf.Statx(ctx, flags, mask, out); errno != 0 {
		return errno
	}
	out.Size = uint64(h.f.Size())
	return 0
}

// Allocate is refused: the C library then writes the range itself, and
// those writes are cached like any other.
func (h *handle) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	return syscall.EOPNOTSUPP
}

// MountTest mounts dir for a test, at a folder of its own that it returns,
// and unmounts it when the test ends. Where FUSE is not available the test
// is skipped, unless the environment says it runs in CI (CI is set): there
// it fails, so that a machine that lost FUSE does not pass unseen.
func MountTest(t testing.TB, dir string) (*FS, string) {
	t.Helper()
	mnt := t.TempDir()
	lz, err := Mount(dir, mnt)
	if errors.Is(err, ErrUnavailable) && os.Getenv("CI") == "" {
		t.Skipf("%v (with CI set, this fails)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lz.Unmount(); err != nil {
			t.Error(err)
		}
	})
	return lz, mnt
}
