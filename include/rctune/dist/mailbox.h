// Messages between the ranks of a run and the hub on rank 0, and the two ways they travel: over
// MPI (other ranks), or through an in-process queue (rank 0's own search thread).
//
// Every message a member sends goes to the hub; the hub sends a member nothing but the replies to
// its requests. Messages between a pair keep their order (one MPI tag each way), so a member's
// samples always reach the hub before its next request.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

namespace rctune::dist {

enum class MessageType : int32_t {
  // member -> hub
  NextTask = 1,   // request: the next task of my group (reply: Assignment)
  Reference = 2,  // the group leader measured the unscheduled kernel (and the library routine)
  Samples = 3,    // records, as they come
  Best = 4,       // a new best of this member
  Tree = 5,       // the member's tree after a round
  Sync = 6,       // request: my root statistics (reply: the peers' news)
  TaskDone = 7,   // my part of the task is done: final tree and counts
  Llm = 8,        // request: chat completions (reply: LlmAnswer)
  Finished = 9,   // no more tasks; my statistics
  Failed = 10,    // this member failed (the job ends)
  LlmCalls = 11,  // records of requests to language models, for the trace
  // hub -> member
  Assignment = 21,
  SyncReply = 22,
  LlmAnswer = 23,
};

const char* message_type_name(MessageType t);

struct Message {
  MessageType type = MessageType::NextTask;
  int source = 0;    // world rank of the sender (members), or the hub
  std::string body;  // JSON text
};

// How a member talks to the hub.
class Mailbox {
 public:
  virtual ~Mailbox() = default;
  virtual void send(const Message& m) = 0;
  virtual Message receive() = 0;  // the hub's next reply; blocks
};

// A thread-safe queue of messages, with a blocking pop.
class MessageQueue {
 public:
  void push(Message m);
  Message pop();                                   // blocks
  std::optional<Message> try_pop();                // never blocks
  std::optional<Message> pop_for(double seconds);  // waits at most that long
 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Message> q_;
};

// A member on rank 0: queues in both directions (the hub reads `to_hub`, answers into `to_member`).
class LocalMailbox : public Mailbox {
 public:
  LocalMailbox(MessageQueue& to_hub, MessageQueue& to_member) : to_hub_(to_hub), to_member_(to_member) {}
  void send(const Message& m) override { to_hub_.push(m); }
  Message receive() override { return to_member_.pop(); }

 private:
  MessageQueue& to_hub_;
  MessageQueue& to_member_;
};

// A member on another rank: MPI point-to-point with rank 0. Waiting polls with a growing pause
// (up to 2 ms) instead of spinning, so that many ranks can share a few cores.
class MpiMailbox : public Mailbox {
 public:
  void send(const Message& m) override;
  Message receive() override;
};

// The bytes of a message on the wire: [int32 type][body].
std::string pack_message(const Message& m);

// MPI tags: member -> hub, hub -> member.
inline constexpr int kTagToHub = 7101;
inline constexpr int kTagToMember = 7102;

// Hub side of MPI: a message from any member if one has arrived (non-blocking).
std::optional<Message> mpi_poll_from_members();
// Receives a message that MPI_Iprobe reported (source, tag): the wire format is [int32 type][body].
Message mpi_receive(int source, int tag);

// Pauses for the polling loops: 20 us doubling to 2 ms while nothing happens.
class Backoff {
 public:
  void reset() { us_ = 20; }
  void pause();
  double seconds() const { return us_ * 1e-6; }

 private:
  int us_ = 20;
};

}  // namespace rctune::dist
