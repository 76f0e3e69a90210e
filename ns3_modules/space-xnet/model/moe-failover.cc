/*
 * Space-XNet: fail-over between model replicas and re-placement of lost components (issue 24).
 */
#include "moe-failover.h"

#include "moe-token-application.h"

#include "ns3/abort.h"
#include "ns3/data-rate.h"
#include "ns3/enum.h"
#include "ns3/inet-socket-address.h"
#include "ns3/link-socket.h"
#include "ns3/log.h"
#include "ns3/simulator.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MoeFailover");

namespace
{
/// A UDP socket on ``node``, or a LinkSocket where the node forwards at the link level
/// (IslNetworkHelper::SetLinkForwarding), as the token applications choose theirs.
Ptr<Socket>
CreateNodeSocket(Ptr<Node> node)
{
    Ptr<LinkSocketFactory> link = node->GetObject<LinkSocketFactory>();
    return link ? link->CreateSocket() : Socket::CreateSocket(node, UdpSocketFactory::GetTypeId());
}
} // namespace

NS_OBJECT_ENSURE_REGISTERED(MoeFailover);

TypeId
MoeFailover::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::MoeFailover")
            .SetParent<Object>()
            .SetGroupName("SpaceXNet")
            .AddConstructor<MoeFailover>()
            .AddAttribute("Policy",
                          "What a broken replica does: 1 fail over to another replica, 2 re-place the "
                          "lost component on a spare satellite.",
                          UintegerValue(FAILOVER),
                          MakeUintegerAccessor(&MoeFailover::m_policy),
                          MakeUintegerChecker<uint32_t>(FAILOVER, REPLACE))
            .AddAttribute("DetectionDelay",
                          "Time from a component's failure until the service notices it.",
                          TimeValue(Seconds(1)),
                          MakeTimeAccessor(&MoeFailover::m_detectionDelay),
                          MakeTimeChecker())
            .AddAttribute("PaceRate",
                          "Rate at which a holder sends a component's weights (the ISL rate).",
                          DataRateValue(DataRate("100Gbps")),
                          MakeDataRateAccessor(&MoeFailover::m_paceRate),
                          MakeDataRateChecker())
            .AddAttribute("SegmentBytes",
                          "Payload bytes of one weight packet.",
                          UintegerValue(1456),
                          MakeUintegerAccessor(&MoeFailover::m_segmentBytes),
                          MakeUintegerChecker<uint32_t>(1, 65000))
            .AddAttribute("OverheadBytes",
                          "Header bytes a weight packet adds on the wire (UDP, IPv4, PPP): the pacing "
                          "sends one packet per (payload + these) bytes at PaceRate.",
                          UintegerValue(30),
                          MakeUintegerAccessor(&MoeFailover::m_overheadBytes),
                          MakeUintegerChecker<uint32_t>())
            .AddAttribute("MaxRestarts",
                          "REPLACE: how often a request may restart after re-placements abandoned it (its "
                          "plans hold 1 + this many slots of it).",
                          UintegerValue(1),
                          MakeUintegerAccessor(&MoeFailover::m_maxRestarts),
                          MakeUintegerChecker<uint32_t>(1, 255))
            .AddAttribute("WeightPort",
                          "UDP port of the first re-placement's weights at its spare (the next ones above it).",
                          UintegerValue(7000),
                          MakeUintegerAccessor(&MoeFailover::m_weightPort),
                          MakeUintegerChecker<uint16_t>())
            .AddTraceSource("WeightTx",
                            "A packet of a component's weights was sent to its spare.",
                            MakeTraceSourceAccessor(&MoeFailover::m_weightTxTrace),
                            "ns3::Packet::TracedCallback");
    return tid;
}

MoeFailover::MoeFailover()
    : m_policy(FAILOVER),
      m_segmentBytes(1456),
      m_overheadBytes(30),
      m_maxRestarts(1),
      m_weightPort(7000),
      m_requests(0),
      m_resolved(0),
      m_weightPackets(0)
{
}

void
MoeFailover::DoDispose()
{
    for (Job& job : m_jobs)
    {
        if (job.rx)
        {
            job.rx->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
        }
        job.tx = nullptr;
        job.rx = nullptr;
        job.source = nullptr;
        job.spare = nullptr;
    }
    m_replicas.clear();
    Object::DoDispose();
}

void
MoeFailover::Configure(uint32_t replicas, uint32_t requests, const int32_t* owner)
{
    m_requests = requests;
    m_replicas.assign(replicas, Replica());
    m_state.assign(requests, Request());
    for (uint32_t r = 0; r < requests; ++r)
    {
        NS_ABORT_MSG_IF(owner[r] < 0 || static_cast<uint32_t>(owner[r]) >= replicas, "owner out of range");
        m_state[r].replica = static_cast<uint32_t>(owner[r]);
        m_state[r].slot = r;
    }
    for (Replica& rep : m_replicas)
    {
        rep.used.assign(requests, 0);
    }
}

void
MoeFailover::SetReplica(uint32_t replica,
                        Ptr<MoeTrafficPlan> plan,
                        Ptr<MoeRequestStatus> status,
                        Ptr<MoeComponentDirectory> directory,
                        int64_t firstFailureNs)
{
    NS_ABORT_MSG_IF(replica >= m_replicas.size(), "replica out of range");
    Replica& rep = m_replicas[replica];
    rep.plan = plan;
    rep.status = status;
    rep.directory = directory;
    rep.firstFailureNs = firstFailureNs;
}

void
MoeFailover::AddReplacement(uint32_t replica,
                            uint32_t role,
                            uint32_t layer,
                            uint32_t index,
                            int64_t failNs,
                            Ptr<Node> source,
                            Ptr<Node> spare,
                            Ipv4Address spareAddress,
                            uint64_t bytes)
{
    Job job;
    job.replica = replica;
    job.role = role;
    job.layer = layer;
    job.index = index;
    job.failNs = failNs;
    job.source = source;
    job.spare = spare;
    job.spareAddress = spareAddress;
    job.bytes = bytes;
    m_jobs.push_back(job);
}

void
MoeFailover::Start()
{
    if (m_policy == FAILOVER)
    {
        for (uint32_t i = 0; i < m_replicas.size(); ++i)
        {
            if (m_replicas[i].firstFailureNs >= 0)
            {
                Simulator::Schedule(NanoSeconds(m_replicas[i].firstFailureNs) + m_detectionDelay - Simulator::Now(),
                                    &MoeFailover::Detect,
                                    this,
                                    i);
            }
        }
        return;
    }
    for (uint32_t j = 0; j < m_jobs.size(); ++j)
    {
        Job& job = m_jobs[j];
        job.rx = CreateNodeSocket(job.spare);
        NS_ABORT_MSG_IF(job.rx->Bind(InetSocketAddress(Ipv4Address::GetAny(), m_weightPort + j)) != 0,
                        "cannot bind the weights' port");
        job.rx->SetRecvCallback(MakeCallback(&MoeFailover::ReceiveWeights, this).Bind(j));
        Simulator::Schedule(NanoSeconds(job.failNs) + m_detectionDelay - Simulator::Now(),
                            &MoeFailover::DetectJob,
                            this,
                            j);
    }
}

bool
MoeFailover::Owns(uint32_t replica, uint32_t slot) const
{
    return slot < m_requests && m_state[slot].replica == replica && m_state[slot].slot == slot &&
           m_state[slot].arrivalNs < 0;
}

void
MoeFailover::RegisterGateway(uint32_t replica, Ptr<MoeTokenApplication> gateway, bool spare)
{
    (spare ? m_replicas.at(replica).spareGateway : m_replicas.at(replica).gateway) = gateway;
}

void
MoeFailover::Arrive(uint32_t replica, uint32_t slot)
{
    Request& q = m_state[slot];
    q.arrivalNs = Simulator::Now().GetNanoSeconds();
    q.attemptNs = q.arrivalNs;
    Replica& rep = m_replicas[replica];
    if (m_policy == FAILOVER && rep.broken)
    {
        NS_LOG_INFO("request " << slot << " arrives at broken replica " << replica);
        Resend(slot);
        return;
    }
    if (m_policy == REPLACE && rep.paused > 0)
    {
        rep.waiting.push_back(slot);
        return;
    }
    Begin(replica, slot);
}

void
MoeFailover::Begin(uint32_t replica, uint32_t slot)
{
    uint32_t request = slot % m_requests;
    Request& q = m_state[request];
    q.replica = replica;
    q.slot = slot;
    q.started = true;
    q.attemptNs = Simulator::Now().GetNanoSeconds();
    m_replicas[replica].used[request] = 1;
    NS_ABORT_MSG_IF(!m_replicas[replica].gateway, "replica " << replica << " has no layer-0 gateway");
    m_replicas[replica].gateway->Admit(slot);
}

void
MoeFailover::Done(uint32_t replica, uint32_t slot)
{
    Request& q = m_state[slot % m_requests];
    if (q.replica != replica || q.slot != slot || q.done || q.code != 0)
    {
        return;
    }
    q.done = true;
    ++m_resolved;
}

void
MoeFailover::Resolved(uint32_t replica, uint32_t slot)
{
    Done(replica, slot);
}

uint32_t
MoeFailover::GetResolved() const
{
    return m_resolved;
}

void
MoeFailover::Abandon(uint32_t replica)
{
    Replica& rep = m_replicas[replica];
    for (uint32_t r = 0; r < m_requests; ++r)
    {
        Request& q = m_state[r];
        if (q.replica != replica || !q.started || q.done || q.code != 0)
        {
            continue;
        }
        rep.status->MarkFailed(q.slot); // its applications drop whatever of it is still running
        rep.gateway->Forget(q.slot);
        q.started = false;
        if (m_policy == FAILOVER)
        {
            Resend(r);
        }
        else
        {
            rep.abandoned.push_back(r);
        }
    }
}

void
MoeFailover::Detect(uint32_t replica)
{
    NS_LOG_INFO("replica " << replica << " detected broken");
    m_replicas[replica].broken = true;
    Abandon(replica);
}

void
MoeFailover::Resend(uint32_t request)
{
    Request& q = m_state[request];
    uint32_t n = m_replicas.size();
    for (uint32_t step = 1; step < n; ++step)
    {
        uint32_t s = (q.replica + step) % n;
        if (!m_replicas[s].broken && !m_replicas[s].used[request])
        {
            ++q.failovers;
            q.lostNs += Simulator::Now().GetNanoSeconds() - q.attemptNs;
            NS_LOG_INFO("request " << request << " fails over from replica " << q.replica << " to " << s);
            Begin(s, request);
            return;
        }
    }
    FailForGood(request, NO_REPLICA);
}

void
MoeFailover::FailForGood(uint32_t request, int64_t code)
{
    Request& q = m_state[request];
    q.code = code;
    q.failNs = Simulator::Now().GetNanoSeconds();
    q.lostNs += q.failNs - q.attemptNs;
    ++m_resolved;
}

void
MoeFailover::DetectJob(uint32_t j)
{
    Job& job = m_jobs[j];
    job.detectNs = Simulator::Now().GetNanoSeconds();
    Replica& rep = m_replicas[job.replica];
    NS_LOG_INFO("replica " << job.replica << " pauses: component (" << job.role << ", " << job.layer << ", "
                           << job.index << ") is re-placed");
    ++rep.paused;
    Abandon(job.replica);
    job.tx = CreateNodeSocket(job.source);
    job.tx->Bind();
    job.tx->Connect(InetSocketAddress(job.spareAddress, m_weightPort + j));
    SendWeights(j);
}

void
MoeFailover::SendWeights(uint32_t j)
{
    Job& job = m_jobs[j];
    if (job.sent >= job.bytes)
    {
        return;
    }
    uint32_t size = static_cast<uint32_t>(std::min<uint64_t>(m_segmentBytes, job.bytes - job.sent));
    Ptr<Packet> p = Create<Packet>(size);
    m_weightTxTrace(p);
    job.tx->Send(p);
    job.sent += size;
    ++job.packets;
    ++m_weightPackets;
    // Paced at the link rate: the next packet when this one has left the first link.
    Simulator::Schedule(m_paceRate.CalculateBytesTxTime(size + m_overheadBytes), &MoeFailover::SendWeights, this, j);
}

void
MoeFailover::ReceiveWeights(uint32_t j, Ptr<Socket> socket)
{
    Job& job = m_jobs[j];
    Ptr<Packet> p;
    while ((p = socket->Recv()))
    {
        job.received += p->GetSize();
    }
    if (job.readyNs < 0 && job.received >= job.bytes)
    {
        Ready(j);
    }
}

void
MoeFailover::Ready(uint32_t j)
{
    Job& job = m_jobs[j];
    job.readyNs = Simulator::Now().GetNanoSeconds();
    Replica& rep = m_replicas[job.replica];
    auto role = static_cast<MoeRole>(job.role);
    uint32_t index = role == MoeRole::GATEWAY ? 0 : job.index;
    rep.directory->Add(role, job.layer, index, 0, job.spareAddress, rep.directory->GetPort(role, job.layer, index));
    rep.plan->Restore(job.role, job.layer, index);
    if (role == MoeRole::GATEWAY && job.layer == 0)
    {
        rep.gateway = rep.spareGateway; // requests start at the re-placed gateway now
    }
    NS_LOG_INFO("component (" << job.role << ", " << job.layer << ", " << index << ") of replica " << job.replica
                              << " runs on node " << job.spare->GetId());
    if (--rep.paused > 0)
    {
        return;
    }
    std::vector<uint32_t> abandoned;
    std::vector<uint32_t> waiting;
    abandoned.swap(rep.abandoned);
    waiting.swap(rep.waiting);
    for (uint32_t r : abandoned)
    {
        Request& q = m_state[r];
        uint64_t next = static_cast<uint64_t>(q.slot) + m_requests;
        if (next >= static_cast<uint64_t>(m_requests) * (1 + m_maxRestarts))
        {
            FailForGood(r, TWICE);
            continue;
        }
        ++q.replacements;
        q.lostNs += job.readyNs - q.attemptNs;
        Begin(job.replica, static_cast<uint32_t>(next));
    }
    for (uint32_t r : waiting)
    {
        Request& q = m_state[r];
        ++q.replacements;
        q.lostNs += job.readyNs - q.attemptNs;
        Begin(job.replica, r);
    }
}

void
MoeFailover::Copy(int64_t* out, uint64_t count) const
{
    NS_ABORT_MSG_IF(count != static_cast<uint64_t>(m_requests) * FIELDS, "failover records: wrong count");
    for (uint32_t r = 0; r < m_requests; ++r)
    {
        const Request& q = m_state[r];
        int64_t* f = out + static_cast<uint64_t>(r) * FIELDS;
        f[0] = q.replica;
        f[1] = q.slot;
        f[2] = q.failovers;
        f[3] = q.replacements;
        f[4] = q.lostNs;
        f[5] = q.started ? q.attemptNs : -1;
        f[6] = q.code;
        f[7] = q.failNs;
    }
}

void
MoeFailover::CopyReplacements(int64_t* out, uint64_t count) const
{
    NS_ABORT_MSG_IF(count != m_jobs.size() * 4, "re-placement records: wrong count");
    for (uint64_t j = 0; j < m_jobs.size(); ++j)
    {
        out[j * 4] = m_jobs[j].detectNs;
        out[j * 4 + 1] = m_jobs[j].readyNs;
        out[j * 4 + 2] = static_cast<int64_t>(m_jobs[j].packets);
        out[j * 4 + 3] = static_cast<int64_t>(m_jobs[j].sent);
    }
}

uint64_t
MoeFailover::GetWeightPackets() const
{
    return m_weightPackets;
}

} // namespace ns3
