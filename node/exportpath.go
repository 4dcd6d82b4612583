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
	return n.checkExportFolder(filepath.Dir(path), path)
}

// checkExportFolder refuses dir, which an export named path writes into,
// when it is the data folder or inside it.
func (n *Node) checkExportFolder(dir, path string) error {
	data, err := os.Stat(n.cfg.DataDir)
	if err != nil {
		return err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return err
	}
	// From the nearest folder that exists (a folder the export would
	// make is none of the node's), through its links, up to the root.
	real, err := filepath.EvalSymlinks(dir)
	for err != nil && filepath.Dir(dir) != dir {
		dir = filepath.Dir(dir)
		real, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		return nil
	}
	for d := real; ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && os.SameFile(fi, data) {
			return fmt.Errorf("%s: %w (%s): it holds the node's database and keys; write the export elsewhere", path, ErrInDataFolder, n.cfg.DataDir)
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}
