// Message transport between members and the hub (include/rctune/dist/mailbox.h).
#include "rctune/dist/mailbox.h"

#include <mpi.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

namespace rctune::dist {

const char* message_type_name(MessageType t) {
  switch (t) {
    case MessageType::NextTask:
      return "next_task";
    case MessageType::Reference:
      return "reference";
    case MessageType::Samples:
      return "samples";
    case MessageType::Best:
      return "best";
    case MessageType::Tree:
      return "tree";
    case MessageType::Sync:
      return "sync";
    case MessageType::TaskDone:
      return "task_done";
    case MessageType::Llm:
      return "llm";
    case MessageType::Finished:
      return "finished";
    case MessageType::Failed:
      return "failed";
    case MessageType::LlmCalls:
      return "llm_calls";
    case MessageType::Assignment:
      return "assignment";
    case MessageType::SyncReply:
      return "sync_reply";
    case MessageType::LlmAnswer:
      return "llm_answer";
  }
  return "unknown";
}

void MessageQueue::push(Message m) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    q_.push_back(std::move(m));
  }
  cv_.notify_one();
}

Message MessageQueue::pop() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !q_.empty(); });
  Message m = std::move(q_.front());
  q_.pop_front();
  return m;
}

std::optional<Message> MessageQueue::try_pop() {
  std::lock_guard<std::mutex> lock(mu_);
  if (q_.empty()) return std::nullopt;
  Message m = std::move(q_.front());
  q_.pop_front();
  return m;
}

std::optional<Message> MessageQueue::pop_for(double seconds) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return !q_.empty(); }))
    return std::nullopt;
  Message m = std::move(q_.front());
  q_.pop_front();
  return m;
}

void Backoff::pause() {
  std::this_thread::sleep_for(std::chrono::microseconds(us_));
  us_ = std::min(us_ * 2, 2000);
}

std::string pack_message(const Message& m) {
  std::string buf(sizeof(int32_t) + m.body.size(), '\0');
  const int32_t type = static_cast<int32_t>(m.type);
  std::memcpy(buf.data(), &type, sizeof type);
  std::memcpy(buf.data() + sizeof type, m.body.data(), m.body.size());
  return buf;
}

Message mpi_receive(int source, int tag) {
  MPI_Status st;
  MPI_Probe(source, tag, MPI_COMM_WORLD, &st);
  int count = 0;
  MPI_Get_count(&st, MPI_CHAR, &count);
  std::vector<char> buf(static_cast<size_t>(count));
  MPI_Recv(buf.data(), count, MPI_CHAR, st.MPI_SOURCE, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  if (count < static_cast<int>(sizeof(int32_t)))
    throw std::runtime_error("a message from rank " + std::to_string(st.MPI_SOURCE) + " is truncated");
  Message m;
  int32_t type = 0;
  std::memcpy(&type, buf.data(), sizeof type);
  m.type = static_cast<MessageType>(type);
  m.source = st.MPI_SOURCE;
  m.body.assign(buf.data() + sizeof type, buf.size() - sizeof type);
  return m;
}

void MpiMailbox::send(const Message& m) {
  std::string buf = pack_message(m);
  MPI_Send(buf.data(), static_cast<int>(buf.size()), MPI_CHAR, 0, kTagToHub, MPI_COMM_WORLD);
}

Message MpiMailbox::receive() {
  Backoff backoff;
  while (true) {
    int flag = 0;
    MPI_Status st;
    MPI_Iprobe(0, kTagToMember, MPI_COMM_WORLD, &flag, &st);
    if (flag) return mpi_receive(0, kTagToMember);
    backoff.pause();
  }
}

std::optional<Message> mpi_poll_from_members() {
  int flag = 0;
  MPI_Status st;
  MPI_Iprobe(MPI_ANY_SOURCE, kTagToHub, MPI_COMM_WORLD, &flag, &st);
  if (!flag) return std::nullopt;
  return mpi_receive(st.MPI_SOURCE, kTagToHub);
}

}  // namespace rctune::dist
