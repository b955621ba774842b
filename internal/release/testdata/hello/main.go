// Command hello is the program TestBuildReproducible builds twice.
package main

import "fmt"

var version = "dev"

func main() { fmt.Println("hello", version) }
