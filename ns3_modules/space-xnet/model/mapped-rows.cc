/*
 * Space-XNet: the rows of a borrowed per-snapshot array that lies in a read-only file mapping,
 * held a window at a time.
 */
#include "mapped-rows.h"

#include "ns3/abort.h"
#include "ns3/log.h"

#include <algorithm>
#include <sys/mman.h>
#include <unistd.h>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("MappedRows");

void
MappedRows::Set(const void* data, uint64_t bytes, uint32_t window)
{
    NS_LOG_FUNCTION(this << data << bytes << window);
    NS_ABORT_MSG_IF(window > 0 && data == nullptr, "a window needs an array");
    m_data = static_cast<const uint8_t*>(data);
    m_bytes = bytes;
    m_window = window;
    m_last.store(-1);
    m_rows.store(0);
    Release();
}

void
MappedRows::Note() const
{
    const uint32_t rows = m_rows.fetch_add(1, std::memory_order_relaxed) + 1;
    if (rows > m_window)
    {
        Release();
        m_rows.store(1, std::memory_order_relaxed); // the row being read now
        return;
    }
    uint32_t most = m_maxRows.load(std::memory_order_relaxed);
    while (rows > most && !m_maxRows.compare_exchange_weak(most, rows, std::memory_order_relaxed))
    {
    }
}

void
MappedRows::Release() const
{
    if (m_window == 0 || m_bytes == 0)
    {
        return;
    }
    // Whole pages inside the array only: a page it shares with other data is left alone.
    const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto begin = reinterpret_cast<uintptr_t>(m_data);
    const uintptr_t first = (begin + page - 1) / page * page;
    const uintptr_t last = (begin + m_bytes) / page * page;
    if (last > first)
    {
        NS_ABORT_MSG_IF(madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED) != 0,
                        "could not release the mapped rows");
    }
    m_releases.fetch_add(1, std::memory_order_relaxed);
    NS_LOG_LOGIC("released " << (last - first) << " bytes");
}

uint32_t
MappedRows::GetWindow() const
{
    return m_window;
}

uint64_t
MappedRows::GetReleases() const
{
    return m_releases.load();
}

uint32_t
MappedRows::GetMaxRowsHeld() const
{
    return m_maxRows.load();
}

} // namespace ns3
