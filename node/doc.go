// Package node is a Lifeline node: its data folder, its identity, its kits
// and its store, and everything a person or a program does with them. The
// command-line tool and the desktop app are thin faces over this package;
// neither reaches into the store itself.
package node
