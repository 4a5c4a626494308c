#include "base/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace hearth {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd number " + std::to_string(x), "test.odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  HEARTH_ASSIGN_OR_RETURN(int h, Half(x));
  HEARTH_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckPositive(int x) {
  if (x <= 0) return OutOfRangeError("not positive");
  return Status::Ok();
}

Status Both(int a, int b) {
  HEARTH_RETURN_IF_ERROR(CheckPositive(a));
  HEARTH_RETURN_IF_ERROR(CheckPositive(b));
  return Status::Ok();
}

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "ok");
  EXPECT_EQ(s.message(), "");
}

TEST(StatusTest, CarriesCodeMessageReason) {
  Status s = DataLossError("bad bytes", "gguf.truncated");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.reason(), "gguf.truncated");
  EXPECT_EQ(s.ToString(), "data_loss: bad bytes");
}

TEST(StatusTest, ContextIsPrepended) {
  Status s = NotFoundError("key 'x' missing").WithContext("loading model");
  EXPECT_EQ(s.message(), "loading model: key 'x' missing");
  EXPECT_TRUE(Status().WithContext("ctx").ok());
}

TEST(StatusTest, CopyIsDeep) {
  Status a = InternalError("a");
  Status b = a;
  b = std::move(b).WithContext("b");
  EXPECT_EQ(a.message(), "a");
  EXPECT_EQ(b.message(), "b: a");
}

TEST(StatusTest, ErrnoMapping) {
  EXPECT_EQ(ErrnoError("open", ENOENT).code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoError("write", ENOSPC).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoError("write", ENOSPC).reason(), "os.disk_full");
  EXPECT_EQ(ErrnoError("open", EACCES).code(), StatusCode::kPermissionDenied);
  EXPECT_NE(ErrnoError("open", ENOENT).message().find("No such file"), std::string::npos);
}

TEST(ResultTest, ValueAndErrorPropagation) {
  auto q = Quarter(12);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, 3);
  auto bad = Quarter(6);  // 6 -> 3 -> odd
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "test.odd");
  EXPECT_EQ(bad.status().message(), "odd number 3");
}

TEST(ResultTest, ReturnIfError) {
  EXPECT_TRUE(Both(1, 2).ok());
  EXPECT_EQ(Both(1, -2).code(), StatusCode::kOutOfRange);
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> r = InvalidArgumentError("nope");
  EXPECT_DEATH((void)r.value(), "value\\(\\) on an error Result");
}

}  // namespace
}  // namespace hearth
