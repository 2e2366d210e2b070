// aiospec fuzz: differential fuzzing of the reference loop against CPython, in one process.
//
//   aiospec fuzz --seed S --count N [--start I] [--backend poll|select|all] [--mutant NAME]
//                [--out DIR] [--max-ops K] [--max-tests T] [--per-kind K] [--stop-after D]
//                [--timeout S] [--progress N] [--quiet]
//
//   --max-tests T   runs the minimiser may make per divergence (0: write the program as found)
//   --per-kind K    divergences of one kind minimised and written (the rest are only counted)
//   --stop-after D  stop after D divergences
//   --timeout S     a program whose run (both loops) takes more than S seconds (default 30) ends the
//                   process with exit 3 and a line naming it; a crash names it too
//
// Program I of seed S is tools/aiospec_spec/fuzzgen.py's generate(S, I): the pair reproduces it.
// Each program is loaded by the real loader, run on the embedded CPython and on the reference
// loop (or a mutant), and the traces compared; a divergence is minimised by delta debugging and
// written to DIR/fuzz-S-I.yaml. Exit 0 when no program diverged, 1 when one did (or the loader
// refused a generated program, or the oracle failed: generator and oracle bugs), 2 bad arguments.
#pragma once

namespace aiospec::cli {

// argv[1] is "fuzz".
int fuzz(int argc, char** argv);

}  // namespace aiospec::cli
