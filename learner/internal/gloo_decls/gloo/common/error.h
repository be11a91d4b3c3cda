// Declaration only (see ../../README.md): ProcessGroupGloo.hpp includes this; we use nothing from it.
#pragma once
