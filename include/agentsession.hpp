#ifndef AGENTSESSION_HPP
#define AGENTSESSION_HPP
#include <string>
#include "agentsession.h"
namespace agentsession { inline std::string version() { return ags_version(); } }
#endif
