// Records a tiny conversation and reads it back with the C++ wrapper.
// Build: c++ -std=c++17 hello.cpp $(pkg-config --cflags --libs agentsession)
// Run:   ./a.out DIR   (the store is created under DIR)
#include <agentsession.hpp>

#include <iostream>

int main(int argc, char **argv) {
    namespace ags = agentsession;
    try {
        ags::Store store = ags::Store::open(argc > 1 ? argv[1] : "sessions");
        ags::Recorder rec(store, "hello");
        rec.start("example-agent", "/tmp");
        rec.record_user_prompt("Say hello");
        rec.record_agent_message("Hello from C++!");
        rec.end("done");

        ags::Player player(store, "hello");
        while (auto event = player.next()) std::cout << *event << '\n';
        std::cout << "reply: " << ags::last_agent_message(player.events()) << '\n';
    } catch (const ags::Error &e) {
        std::cerr << "error " << e.status() << ": " << e.what() << '\n';
        return 1;
    }
    return 0;
}
