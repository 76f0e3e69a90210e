/*
 * Space-XNet: the relay delay and the holding of packets without a route, shared by the
 * forwarding modes (ForwardingTableRouting for links.forwarding ip and ip-stack, LinkForwarder
 * for links.forwarding link).
 */
#ifndef SPACE_XNET_RELAY_HOLD_H
#define SPACE_XNET_RELAY_HOLD_H

#include "ns3/callback.h"
#include "ns3/forwarding-table.h"
#include "ns3/nstime.h"
#include "ns3/simulator.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace ns3
{

/**
 * @brief What a node does with a packet that must wait: for the relay delay (RelayDelay), or for
 * a route (HoldWithoutRoute). One set of rules for every forwarding mode:
 *
 * - Forward: a packet with a route goes on at once where it starts, or at a relay after the
 *   relay delay, when the route is looked up again (a step may have changed meanwhile): sent on
 *   that route if there is one; else held (the relay delay spent) with HoldWithoutRoute, else
 *   dropped.
 * - Hold: a held packet waits, in arrival order, for the ForwardingTable's "Step" trace; at each
 *   step change every held packet with a route now is forwarded (Forward, as where it was held),
 *   the others wait on. Held packets and the nanoseconds they waited are counted.
 *
 * @tparam Owner the forwarding component. It keeps the attributes (the relay delay and
 * HoldWithoutRoute, read through references given at construction) and provides, to this class:
 *   - `Route RelayHoldLookup(const Item& item) const`: the route in the active step, or a null one;
 *   - `void RelayHoldSend(Route route, Item& item)`: send the packet on;
 *   - `void RelayHoldDrop(Item& item)`: count a packet dropped for want of a route.
 * @tparam Item what one packet carries while it waits (the packet and what sends it).
 * @tparam Route what a lookup gives (tested as a bool: null when there is no route).
 *
 * Header-only: the owner's calls are direct (and inlined), as in the code it replaces.
 */
template <typename Owner, typename Item, typename Route>
class RelayHold
{
  public:
    /**
     * @param owner the component that owns this one (for its lookup, send and drop)
     * @param table the owner's ForwardingTable, whose "Step" trace releases held packets
     * @param relayDelay the owner's RelayDelay attribute
     * @param holdWithoutRoute the owner's HoldWithoutRoute attribute
     */
    RelayHold(Owner* owner, const Ptr<ForwardingTable>& table, const Time& relayDelay, const bool& holdWithoutRoute)
        : m_owner(owner),
          m_table(table),
          m_relayDelay(relayDelay),
          m_holdWithoutRoute(holdWithoutRoute),
          m_stepConnected(false),
          m_heldPackets(0),
          m_heldNs(0)
    {
    }

    RelayHold(const RelayHold&) = delete;
    RelayHold& operator=(const RelayHold&) = delete;

    /**
     * @brief Send @p item on through @p route: at once, or, at a relay (@p relay) with a relay
     * delay, after it (with the route then in force).
     */
    void Forward(Route route, Item& item, bool relay)
    {
        if (!relay || m_relayDelay.IsZero())
        {
            m_owner->RelayHoldSend(route, item);
            return;
        }
        Simulator::Schedule(m_relayDelay, &RelayHold::ForwardAfterRelay, this, item);
    }

    /// Hold @p item until a step change gives it a route; @p relay: held at a relay (the relay
    /// delay applies when it is released).
    void Hold(Item item, bool relay)
    {
        if (!m_stepConnected)
        {
            m_table->TraceConnectWithoutContext("Step", MakeCallback(&RelayHold::StepChanged, this));
            m_stepConnected = true;
        }
        ++m_heldPackets;
        m_held.push_back(Held{std::move(item), relay, Simulator::Now()});
    }

    /// Packets held for want of a route, and the time they waited until released.
    uint64_t GetHeldPackets() const
    {
        return m_heldPackets;
    }

    uint64_t GetHeldNs() const
    {
        return m_heldNs;
    }

    /// Disconnect from the table and drop the held packets (the owner's DoDispose, before it
    /// releases its table).
    void Dispose()
    {
        if (m_stepConnected && m_table)
        {
            m_table->TraceDisconnectWithoutContext("Step", MakeCallback(&RelayHold::StepChanged, this));
        }
        m_held.clear();
    }

  private:
    /// A packet waiting here for a route.
    struct Held
    {
        Item item;
        bool relay; //!< held at a relay (not at its source): the relay delay applies on release
        Time since;
    };

    void ForwardAfterRelay(Item item)
    {
        // The route in force when the relay is done with the packet (a step may have changed meanwhile).
        Route route = m_owner->RelayHoldLookup(item);
        if (route)
        {
            m_owner->RelayHoldSend(route, item);
        }
        else if (m_holdWithoutRoute)
        {
            Hold(std::move(item), false); // the relay delay is spent
        }
        else
        {
            m_owner->RelayHoldDrop(item);
        }
    }

    /// The table's step changed: send on every held packet that has a route now.
    void StepChanged(uint32_t oldStep, uint32_t newStep)
    {
        std::vector<Held> waiting;
        waiting.swap(m_held);
        for (auto& held : waiting) // in arrival order: a message's packets stay in order
        {
            Route route = m_owner->RelayHoldLookup(held.item);
            if (!route)
            {
                m_held.push_back(std::move(held));
                continue;
            }
            m_heldNs += (Simulator::Now() - held.since).GetNanoSeconds();
            Forward(route, held.item, held.relay);
        }
    }

    Owner* m_owner;
    const Ptr<ForwardingTable>& m_table;
    const Time& m_relayDelay;
    const bool& m_holdWithoutRoute;
    bool m_stepConnected;
    std::vector<Held> m_held;
    uint64_t m_heldPackets;
    uint64_t m_heldNs;
};

} // namespace ns3

#endif /* SPACE_XNET_RELAY_HOLD_H */
