package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrInDataFolder means an export was to be written into the node's data
// folder.
var ErrInDataFolder = errors.New("an export is not written into the node's data folder")

// CheckExportPath refuses a file to export to in the node's data folder,
// or in a folder inside it: a path mistyped there would replace the
// node's database or its key while the node holds them, and an export of
// personal data would lie in the clear among files the node seals. The
// folder is compared as the system finds it, through links, so that
// another name of the data folder is refused too.
func (n *Node) CheckExportPath(path string) error {
	in, err := within(path, n.cfg.DataDir)
	if err != nil || !in {
		return err
	}
	return n.inDataFolder(path)
}

// checkExportFolder refuses dir, which an export named path writes into,
// when it is the data folder or inside it.
func (n *Node) checkExportFolder(dir, path string) error {
	in, err := folderWithin(dir, n.cfg.DataDir)
	if err != nil || !in {
		return err
	}
	return n.inDataFolder(path)
}

func (n *Node) inDataFolder(path string) error {
	return fmt.Errorf("%s: %w (%s): it holds the node's database and keys; write the export elsewhere", path, ErrInDataFolder, n.cfg.DataDir)
}

// within reports whether the file path is in folder, or in a folder
// inside it, as CheckExportPath takes it.
func within(path, folder string) (bool, error) {
	abs, err := systemPath(path)
	if err != nil {
		return false, err
	}
	for _, dir := range []string{parent(abs), filepath.Dir(path)} {
		if in, err := folderWithin(dir, folder); err != nil || in {
			return in, err
		}
	}
	return false, nil
}

// folderWithin reports whether dir, which a file is written into, is
// folder or inside it. After a link, ".." is not the same folder as the
// system takes it and as filepath.Join and filepath.Dir take it, cleaning
// the names first, nor a relative path from the system's current folder
// and from the shell's $PWD (filepath.Abs); writers take it each way, so
// dir is found in folder whichever way it is there.
func folderWithin(dir, folder string) (bool, error) {
	data, err := os.Stat(folder)
	if err != nil {
		return false, err
	}
	sys, err := systemPath(dir)
	if err != nil {
		return false, err
	}
	clean, err := systemPath(filepath.Clean(dir))
	if err != nil {
		return false, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false, err
	}
	for _, d := range []string{sys, clean, abs} {
		if inside(d, data) {
			return true, nil
		}
	}
	return false, nil
}

// inside reports whether dir, as the system finds it through its links,
// is the folder data or inside it. A folder that does not exist yet (one
// an export would make is none of the node's) is taken from the nearest
// one that does.
func inside(dir string, data os.FileInfo) bool {
	real, err := filepath.EvalSymlinks(dir)
	for err != nil && parent(dir) != dir {
		dir = parent(dir)
		real, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		return false
	}
	for d := real; ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && os.SameFile(fi, data) {
			return true
		}
		if filepath.Dir(d) == d {
			return false
		}
	}
}

// systemPath is path made absolute as the system takes it: a ".." after a
// link is the parent of the link's target, not of the link, as
// filepath.Abs and filepath.Clean, going by the names, would have it; and
// a relative path starts at the current folder without the links a
// shell's $PWD keeps, which os.Getwd gives. The names are left as they
// are, for filepath.EvalSymlinks to follow.
func systemPath(path string) (string, error) {
	if filepath.IsAbs(path) {
		return path, nil
	}
	wd, err := os.Getwd()
	if err == nil {
		wd, err = filepath.EvalSymlinks(wd)
	}
	if err != nil {
		return "", err
	}
	return wd + string(filepath.Separator) + path, nil
}

// parent is path without its last name, the rest left as it is: unlike
// filepath.Dir, "a/link/../b" gives "a/link/..", not "a". As with
// filepath.Dir, "a/b/" gives "a/b", and the root is its own parent.
func parent(path string) string {
	i := len(path)
	for i > 0 && !os.IsPathSeparator(path[i-1]) {
		i--
	}
	for i > 1 && os.IsPathSeparator(path[i-1]) {
		i--
	}
	if i == 0 {
		return path
	}
	return path[:i]
}
