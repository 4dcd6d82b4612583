// Package desktop is Lifeline's desktop app (Fyne): forms generated from
// the kits, the records a node holds with their history and conflicts,
// sync and bundles, and headquarters' view. It works through a node (the
// library `lifeline run` uses) and never opens the store itself.
//
// Long work (imports, bundles, sync) runs off the UI thread: see UI.run.
package desktop
