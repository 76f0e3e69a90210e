/*
 * Space-XNet: the rows of a borrowed per-snapshot array that lies in a read-only file mapping,
 * held a window at a time.
 */
#ifndef SPACE_XNET_MAPPED_ROWS_H
#define SPACE_XNET_MAPPED_ROWS_H

#include <atomic>
#include <cstdint>

namespace ns3
{

/**
 * @brief A window over the rows of a borrowed [steps, width] array that the caller placed in a
 * read-only shared file mapping (the harness spills a long run's per-snapshot state, such as the
 * [S, L] link delays, to a file: harness/network/spill.py).
 *
 * Its readers note every row they read (Read); once more than @c window distinct rows have been
 * read since the last release, the whole mapping's pages are dropped from this process
 * (madvise MADV_DONTNEED). The file keeps the bytes: a later read of any row faults its pages
 * in again, with the same values, so what the readers compute does not depend on the window, and
 * the process holds about a window of rows however long the run. Rows are counted each time the
 * row read changes, an upper bound on the distinct rows the window held.
 *
 * With no window (0, the default) nothing is ever released: the array may then be anywhere
 * (MADV_DONTNEED on ordinary memory would lose it, so only a file mapping may have a window).
 * Reads may come from two threads (the routes' prefetch): the counters are atomic, and a page
 * dropped under another thread's read is only read again from the file.
 */
class MappedRows
{
  public:
    MappedRows() = default;
    MappedRows(const MappedRows&) = delete;
    MappedRows& operator=(const MappedRows&) = delete;

    /**
     * @brief Set the array and the window, and release its pages now.
     * @param data first byte of the array (in a read-only shared file mapping when window > 0)
     * @param bytes the array's size
     * @param window rows read between releases; 0: never release
     */
    void Set(const void* data, uint64_t bytes, uint32_t window);
    /// Note a read of @p row (releases the mapping first when the window is full).
    void Read(uint32_t row) const
    {
        if (m_window == 0)
        {
            return;
        }
        if (m_last.exchange(row, std::memory_order_relaxed) == static_cast<int64_t>(row))
        {
            return; // the same row again
        }
        Note();
    }
    /// Drop the mapping's pages from this process now (nothing when there is no window).
    void Release() const;

    uint32_t GetWindow() const;
    /// Releases so far.
    uint64_t GetReleases() const;
    /// The most rows read between two releases (at most the window, by construction).
    uint32_t GetMaxRowsHeld() const;

  private:
    void Note() const;

    const uint8_t* m_data = nullptr;
    uint64_t m_bytes = 0;
    uint32_t m_window = 0;
    mutable std::atomic<int64_t> m_last{-1};     //!< the row read last
    mutable std::atomic<uint32_t> m_rows{0};     //!< rows read since the last release
    mutable std::atomic<uint32_t> m_maxRows{0};  //!< GetMaxRowsHeld
    mutable std::atomic<uint64_t> m_releases{0}; //!< GetReleases
};

} // namespace ns3

#endif /* SPACE_XNET_MAPPED_ROWS_H */
