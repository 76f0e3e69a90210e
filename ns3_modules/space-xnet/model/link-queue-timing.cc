/*
 * Space-XNet: the analytic model's link queueing: a few messages' packets over point-to-point links,
 * first come first served, without a simulator.
 */
#include "link-queue-timing.h"

#include "ns3/abort.h"
#include "ns3/log.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <queue>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("LinkQueueTiming");

void
LinkQueueTiming::Arrivals(uint64_t count,
                          uint32_t width,
                          const int64_t* links,
                          const int64_t* delaysNs,
                          const int64_t* sendNs,
                          uint32_t numPackets,
                          const int64_t* txNs,
                          int64_t relayNs,
                          int64_t* arrivalNs)
{
    NS_LOG_FUNCTION(count << width << numPackets);
    // A packet reaching a hop's link: (time, when it started on its previous link, order, message,
    // packet, hop); the earliest first, ties as ns-3 runs its events (see the header).
    using Event = std::tuple<int64_t, int64_t, uint64_t, uint64_t, uint32_t, uint32_t>;
    std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events;
    const int64_t sent = std::numeric_limits<int64_t>::min();
    for (uint64_t m = 0; m < count; ++m)
    {
        NS_ABORT_MSG_IF(width == 0 || links[m * width] < 0, "LinkQueueTiming: a message without a hop");
        arrivalNs[m] = sent;
        for (uint32_t p = 0; p < numPackets; ++p)
        {
            NS_ABORT_MSG_IF(txNs[p] <= 0, "LinkQueueTiming: a packet's tx time must be positive");
            events.emplace(sendNs[m], sent, m * numPackets + p, m, p, 0);
        }
    }
    std::unordered_map<int64_t, int64_t> freeAt; // when each link is done with the packets it took
    freeAt.reserve(count * width);
    while (!events.empty())
    {
        auto [at, started, order, m, p, hop] = events.top();
        events.pop();
        int64_t link = links[m * width + hop];
        auto it = freeAt.find(link);
        int64_t begin = it == freeAt.end() ? at : std::max(at, it->second);
        int64_t done = begin + txNs[p];
        freeAt[link] = done;
        int64_t reach = done + delaysNs[m * width + hop];
        if (hop + 1 < width && links[m * width + hop + 1] >= 0)
        {
            events.emplace(reach + relayNs, begin, order, m, p, hop + 1);
        }
        else
        {
            arrivalNs[m] = std::max(arrivalNs[m], reach);
        }
    }
}

} // namespace ns3
