package drill

import (
	"fmt"
	"os"
	"os/exec"

	"lifeline/drill/netlab"
)

// newLab makes the drill's network (see netlab): a switch namespace with a
// bridge per site and the uplinks between the sites, and a namespace per
// node. It first checks that this machine has what the whole drill needs.
func newLab() (*netlab.Lab, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("the drill needs root: it makes network namespaces, links and file systems")
	}
	for _, tool := range []string{"ip", "tc", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("the drill needs the %s command (Debian packages iproute2 and nftables)", tool)
		}
	}
	return netlab.New("dr")
}

// smallDisk mounts a tmpfs of size at dir (made if missing), for a node
// whose disk the drill fills; close unmounts it.
func (d *Drill) smallDisk(dir, size string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		return fmt.Errorf("mount %s: %v: %s", dir, err, out)
	}
	d.mu.Lock()
	d.mounts = append(d.mounts, dir)
	d.mu.Unlock()
	return nil
}
