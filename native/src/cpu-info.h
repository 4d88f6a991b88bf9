// Physical CPU core count, the default thread count of a context's ggml thread pool.
//
// Owns: reading the CPU topology. ggml's worker threads spin while they wait, so running more of
// them than there are physical cores (hyperthreads, or CPUs outside this process's affinity
// mask) collapses throughput; the count therefore honors the affinity mask.
#pragma once

namespace servellm {

// Unique (package, core) pairs among the CPUs this process may run on, from
// /sys/devices/system/cpu/cpuN/topology, else /proc/cpuinfo ("physical id", "core id"), else
// std::thread::hardware_concurrency(). Always >= 1.
int PhysicalCores();

}  // namespace servellm
