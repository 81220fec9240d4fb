"""ECR collector: the repository policy of a container image function's repository.

Lambda pulls the image as the service principal `lambda.amazonaws.com`; the repository
policy must allow it `ecr:BatchGetImage` and `ecr:GetDownloadUrlForLayer` (for another
account's repository, with `aws:sourceArn` / `aws:sourceAccount` conditions naming the
function's account, and the function's account must be allowed too).
`RepositoryPolicyNotFoundException` means no policy (then Lambda can pull only when it
could add the statements itself at create time — same account only).

https://docs.aws.amazon.com/lambda/latest/dg/images-create.html#configuration-images-permissions
https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetRepositoryPolicy.html
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from bot.aws.reader import NOT_FOUND
from bot.snapshot import ContainerRepository

if TYPE_CHECKING:
    from bot.aws.collect import CollectContext
    from bot.aws.reader import Reader

#: 111111111111.dkr.ecr.us-east-1.amazonaws.com/name[:tag|@digest]
_IMAGE_URI = re.compile(
    r"^(?P<registry>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"/(?P<name>[^:@]+)"
)


def repository_of(image_uri: str, partition: str = "aws") -> ContainerRepository | None:
    m = _IMAGE_URI.match(image_uri)
    if m is None:
        return None
    registry, region, name = m.group("registry"), m.group("region"), m.group("name")
    return ContainerRepository(
        arn=f"arn:{partition}:ecr:{region}:{registry}:repository/{name}",
        registry_id=registry,
        name=name,
    )


async def collect(ctx: CollectContext) -> None:
    """Late collector: `snapshot.container_repository` for image functions."""
    fn = ctx.snapshot.function
    if fn.package_type != "Image" or not fn.image_uri:
        return
    repo = repository_of(fn.image_uri, ctx.snapshot.partition)
    if repo is None:
        return
    await read_repository_policy(ctx.reader, repo)
    ctx.snapshot.container_repository = repo


async def read_repository_policy(reader: Reader, repo: ContainerRepository) -> None:
    region = repo.arn.split(":")[3]
    reply = await reader.call(
        "ecr",
        "GetRepositoryPolicy",
        resource=repo.arn,
        missing=("RepositoryPolicyNotFoundException",),
        account=repo.registry_id,
        region=region,
        registryId=repo.registry_id,
        repositoryName=repo.name,
    )
    if reply is None or reply is NOT_FOUND:
        return
    text = reply.get("policyText")
    if isinstance(text, str):
        try:
            repo.policy = json.loads(text)
        except ValueError:
            reader.gap(
                "ecr:GetRepositoryPolicy", repo.arn, "the repository policy is not valid JSON"
            )
