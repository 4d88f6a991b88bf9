// Physical CPU core count (see cpu-info.h).
//
// Owns: the parsing of sysfs and /proc/cpuinfo topology and of the affinity mask.
#include "cpu-info.h"

#include <sched.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

namespace servellm {
namespace {

bool ReadLong(const std::string& path, long& value) {
  std::ifstream in(path);
  return static_cast<bool>(in >> value);
}

// CPUs this process may run on; empty set = unknown (treat every CPU as allowed).
std::set<long> AllowedCpus() {
  std::set<long> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (long cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) cpus.insert(cpu);
    }
  }
  return cpus;
}

int FromSysfs(const std::set<long>& allowed) {
  std::set<std::pair<long, long>> cores;
  for (long cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!allowed.empty() && allowed.count(cpu) == 0) continue;
    const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    long package = 0;
    long core = 0;
    if (!ReadLong(base + "core_id", core)) {
      if (allowed.empty() && cpu > 0) break;  // CPUs are numbered densely when no mask is known
      continue;
    }
    if (!ReadLong(base + "physical_package_id", package)) package = 0;
    cores.insert({package, core});
  }
  return static_cast<int>(cores.size());
}

int FromProcCpuinfo(const std::set<long>& allowed) {
  std::ifstream in("/proc/cpuinfo");
  if (!in) return 0;
  std::set<std::pair<long, long>> cores;
  long processor = -1;
  long package = -1;
  long core = -1;
  const auto flush = [&]() {
    if (processor >= 0 && core >= 0 && (allowed.empty() || allowed.count(processor) != 0)) {
      cores.insert({package, core});
    }
    processor = package = core = -1;
  };
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) {
      flush();
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    std::istringstream value(line.substr(colon + 1));
    if (key == "processor") {
      value >> processor;
    } else if (key == "physical id") {
      value >> package;
    } else if (key == "core id") {
      value >> core;
    }
  }
  flush();
  return static_cast<int>(cores.size());
}

}  // namespace

int PhysicalCores() {
  const std::set<long> allowed = AllowedCpus();
  int count = FromSysfs(allowed);
  if (count <= 0) count = FromProcCpuinfo(allowed);
  if (count <= 0) count = static_cast<int>(std::thread::hardware_concurrency());
  if (!allowed.empty() && count > static_cast<int>(allowed.size())) {
    count = static_cast<int>(allowed.size());
  }
  return count > 0 ? count : 1;
}

}  // namespace servellm
