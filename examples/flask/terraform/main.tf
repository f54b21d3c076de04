# The Sims Portal on ECS with secrun: the secret, the task definition that
# holds only references, and the task role's policy from `secrun policy`.
#
# No secret value passes through Terraform (or its state): the secret is
# created empty and its value is put there out of band, e.g.
#   aws secretsmanager put-secret-value --secret-id simsportal/prod \
#     --secret-string file://settings.json
# A new setting is a new key in that JSON and a restart of the service:
# no new task-definition revision.
#
# In CI, before apply:
#   terraform plan -out plan.out && terraform show -json plan.out | secrun check -

terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }
}

variable "region" {
  type    = string
  default = "us-east-2"
}

variable "image" {
  type        = string
  description = "The application image, built with secrun as its ENTRYPOINT."
}

variable "db_host" {
  type = string
}

provider "aws" {
  region = var.region
}

# Every key of this JSON secret becomes an environment variable (SECRUN_FROM).
resource "aws_secretsmanager_secret" "app" {
  name = "simsportal/prod"
}

resource "aws_iam_role" "task" {
  name = "simsportal-task"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

# Exactly what the references need: regenerate with
#   secrun policy --region us-east-2 --kms-key <key arn> ../taskdef.json > policy.json
resource "aws_iam_role_policy" "secrets" {
  name   = "read-simsportal-secrets"
  role   = aws_iam_role.task.id
  policy = file("${path.module}/policy.json")
}

resource "aws_iam_role" "execution" {
  name               = "simsportal-execution"
  assume_role_policy = aws_iam_role.task.assume_role_policy
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_ecs_task_definition" "web" {
  family                   = "simsportal"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  task_role_arn            = aws_iam_role.task.arn
  execution_role_arn       = aws_iam_role.execution.arn

  container_definitions = jsonencode([{
    name         = "web"
    image        = var.image
    essential    = true
    stopTimeout  = 30
    portMappings = [{ containerPort = 8000, protocol = "tcp" }]
    environment = [
      # References only: secrun resolves them at start, inside the container.
      { name = "SECRUN_FROM", value = aws_secretsmanager_secret.app.arn },
      # `$${` is a literal `${` in HCL: secrun expands the inline reference.
      { name = "SQLALCHEMY_DATABASE_URI", value = "postgresql://app:$${secretsmanager:rds/sims:password}@${var.db_host}:5432/sims" },
      { name = "SECRUN_LOG_FORMAT", value = "json" },
    ]
  }])
}
