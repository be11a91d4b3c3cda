// Translation unit that carries the precompiled LibTorch header (see GrpoTargets.cmake).
